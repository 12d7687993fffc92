"""This module's event types as data: what each declares, and its contract."""

from jsonschema import Draft202012Validator

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..lib import events, payloads
from . import contracts
from .common import OutboxCase

OWN_TYPES = {
    events.ORDER_CONFIRMED,
    events.ORDER_CANCELLED,
    events.INVOICE_PAID,
    events.STOCK_LEVEL_CHANGED,
    events.SHIPMENT_DISPATCHED,
    events.PRODUCT_CHANGED,
    events.PRICE_CHANGED,
}


@tagged("retail", "post_install", "-at_install")
class TestEventTypes(OutboxCase):
    def specs(self):
        return self.env["retail.outbox.event.type"]._specs()

    def test_only_state_events_coalesce(self):
        specs = self.specs()
        coalesced = {code for code in OWN_TYPES if specs[code].coalesce}
        states = {code for code in OWN_TYPES if specs[code].reports_state}
        self.assertEqual(coalesced, {events.STOCK_LEVEL_CHANGED, events.PRICE_CHANGED})
        self.assertEqual(states, coalesced | {events.PRODUCT_CHANGED})

    def test_routing_is_declared_per_type(self):
        routings = {code: self.specs()[code].routing.key for code in OWN_TYPES}
        self.assertEqual(routings.pop(events.PRICE_CHANGED), "pricelist")
        self.assertEqual(routings.pop(events.STOCK_LEVEL_CHANGED), "warehouse")
        self.assertEqual(set(routings.values()), {"company"})

    def test_every_version_has_a_builder_and_a_published_schema(self):
        Draft202012Validator.check_schema(contracts.load(contracts.ENVELOPE))
        types = self.env["retail.outbox.event.type"].search(
            [("code", "in", list(OWN_TYPES))]
        )
        self.assertEqual(set(types.mapped("code")), OWN_TYPES)
        for event_type in types:
            self.assertTrue(event_type.version_ids, "versions are listed")
            for version in event_type.version_ids.mapped("version"):
                with self.subTest(type=event_type.code, version=version):
                    self.assertTrue(payloads.registered(event_type.code, version))
                    name = contracts.schema_name(event_type.code, version)
                    Draft202012Validator.check_schema(contracts.load(name))

    def test_only_state_events_may_coalesce(self):
        stock = self.env.ref("retail_integration_outbox.event_type_stock_level_changed")
        with self.assertRaises(ValidationError), mute_logger("odoo.sql_db"):
            stock.reports_state = False

    def test_a_version_needs_a_builder(self):
        order = self.env.ref("retail_integration_outbox.event_type_order_confirmed")
        with self.assertRaisesRegex(ValidationError, "order.confirmed version 7"):
            self.env["retail.outbox.event.version"].create(
                {"type_id": order.id, "version": 7}
            )

    def test_a_payload_that_breaks_its_contract_is_reported(self):
        """What the check every outbox test ends with finds: a field gone (or
        renamed), and a field the schema does not document."""
        self.only(events.PRODUCT_CHANGED)
        original = payloads.BUILDERS[(events.PRODUCT_CHANGED, 1)]
        self.addCleanup(payloads.register(events.PRODUCT_CHANGED), original)
        changes = [
            lambda data: data.pop("name"),
            lambda data: data.update(colour="red"),
        ]
        for n, change in enumerate(changes):

            def build(product, scope, change=change):
                data = original(product, scope)
                change(data)
                return data

            payloads.register(events.PRODUCT_CHANGED)(build)
            self.product.name = f"Widget, renamed {n}"
            self.commit_hooks()
        breaches = self.contract_breaches()
        self.assertEqual(len(breaches), 2)
        for breach in breaches:
            self.assertIn("product.changed v1 event", breach)
            self.assertIn("product.changed.v1.json", breach)
        self.assertIn("'name' is a required property at $", breaches[0])
        self.assertIn("'colour' is not documented in the schema at $", breaches[1])
        self.events_before = self.events()[-1].id  # reported: not again at the end
