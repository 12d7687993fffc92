"""The outbox's registries used from outside the modules that define them, as
another module would: an event type (a record and its payload builder), a
routing, and a transport for a new delivery mode, registered here, used end
to end."""

from contextlib import ExitStack
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from ..lib import payloads, retry, routing, transports
from ..models.retail_outbox_event import PENDING_KEY
from .common import OutboxCase
from .contracts import CONTRACTS

TAGGED = "test.partner_tagged"
BINNED = "test.product_binned"
MODE = ("test_queue", "Test Queue")

TAGGED_SCHEMA = {
    "type": "object",
    "required": ["name", "tags"],
    "properties": {
        "name": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
BINNED_SCHEMA = {
    "type": "object",
    "required": ["sku", "warehouse"],
    "properties": {"sku": {"type": "string"}, "warehouse": {"type": "string"}},
}


def partner_tagged(partner, scope):
    return {"name": partner.name, "tags": partner.category_id.mapped("name")}


def product_binned(product, scope):
    warehouse = product.env[scope[0]].browse(scope[1])
    return {"sku": product.default_code, "warehouse": warehouse.code}


class Broker:
    """A message queue: what the test transport published, and whether it is
    up (down: the transport refuses to send until a person acts)."""

    def __init__(self):
        self.messages = []
        self.up = True
        self.status = 200


class QueueTransport(transports.Transport):
    """One message per delivery; the broker's status is the outcome."""

    broker = None

    def target(self, subscription):
        return f"queue://{subscription.backend_id.code}"

    def refusal(self, subscription, secrets):
        if self.broker.up:
            return None
        return "broker down", "The test broker refuses connections.", "broker"

    def deliver(self, subscription, deliveries, session, secrets):
        for delivery in deliveries:
            self.broker.messages.append(delivery.event_id._envelope(delivery.version))
            yield (
                delivery,
                retry.classify_response(self.broker.status),
                {
                    "attempts": delivery.attempts + 1,
                    "last_attempt": fields.Datetime.now(),
                    "last_status_code": self.broker.status,
                    "response_excerpt": "queued",
                    "latency_ms": 1,
                },
            )


@tagged("retail", "post_install", "-at_install")
class TestRegistries(OutboxCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        stack = ExitStack()
        cls.addClassCleanup(stack.close)
        # The event types: a builder each, and their contracts.
        payloads.register(TAGGED)(partner_tagged)
        payloads.register(BINNED)(product_binned)
        stack.callback(payloads.unregister, TAGGED)
        stack.callback(payloads.unregister, BINNED)
        for name, schema in ((TAGGED, TAGGED_SCHEMA), (BINNED, BINNED_SCHEMA)):
            CONTRACTS.add(f"{name}.v1", schema)
            stack.callback(CONTRACTS.remove, f"{name}.v1")
        # A routing: only the backend's warehouse, none without one.
        routing.register(
            routing.Routing(
                "test_own_warehouse",
                "The backend's warehouse only",
                "stock.warehouse",
                "warehouse_id",
                required=True,
            )
        )
        stack.callback(routing.unregister, "test_own_warehouse")
        # The transport, and its delivery mode (a module registers it at
        # import, with @transports.register, and adds the mode with
        # selection_add).
        transports.register(MODE[0])(QueueTransport)
        stack.callback(transports.unregister, MODE[0])
        cls.broker = QueueTransport.broker = Broker()
        Subscription = type(cls.env["retail.event.subscription"])
        field = Subscription._fields["delivery_mode"]
        stack.enter_context(patch.object(field, "selection", [*field.selection, MODE]))
        stack.enter_context(patch.dict(field._selection, [MODE]))
        # The records a module's data file would hold.
        Type = cls.env["retail.outbox.event.type"]
        cls.tagged_type = Type.create({"name": "Partner tagged", "code": TAGGED})
        cls.binned_type = Type.create(
            {
                "name": "Product binned",
                "code": BINNED,
                "routing": "test_own_warehouse",
            }
        )

    def setUp(self):
        super().setUp()
        # Not these tests' business: what the set-up captured. (The test
        # case restores it after each test, with what a test added to it: a
        # warehouse a test created would then be built in the next one.)
        self.env.cr.precommit.data.pop(PENDING_KEY, None)
        self.broker.messages = []
        self.broker.up = True
        self.broker.status = 200

    def subscribe(self, event_type):
        self.subscription.event_type_ids = [(6, 0, event_type.ids)]

    def test_an_event_type_registered_elsewhere_is_delivered(self):
        self.subscribe(self.tagged_type)
        partner = self.env["res.partner"].create({"name": "Tagged Customer"})
        partner.category_id = self.env["res.partner.category"].create({"name": "VIP"})
        self.env["retail.outbox.event"]._capture(TAGGED, partner)
        self.commit_hooks()
        event = self.events(TAGGED, partner)
        self.assertEqual(event.payload, {"name": "Tagged Customer", "tags": ["VIP"]})
        self.assertEqual(event.version, 1, "a type listing no version builds 1")
        self.assertEqual(self.dispatch(), "1 sent, state healthy")
        [request] = self.receiver.received
        self.assertTrue(request["verified"])
        self.assertEqual(
            (request["json"]["type"], request["json"]["version"]), (TAGGED, 1)
        )
        self.assertEqual(request["json"]["data"]["tags"], ["VIP"])
        self.assertEqual(
            self.env["retail.outbox.delivery"].search([]).mapped("event_type"),
            [TAGGED],
        )
        self.assertIn(
            (TAGGED, "Partner tagged"),
            self.env["retail.outbox.event"]
            ._fields["event_type"]
            ._description_selection(self.env),
        )

    def test_a_routing_registered_elsewhere_picks_the_subscriptions(self):
        self.subscribe(self.binned_type)
        annex = self.env["stock.warehouse"].create(
            {"name": "Bin Annex", "code": "BINA"}
        )
        Event = self.env["retail.outbox.event"]

        def binned(warehouse):
            Event._capture(
                BINNED, self.product, scope=("stock.warehouse", warehouse.id)
            )
            self.commit_hooks()
            return self.events(BINNED).mapped("payload")

        self.assertFalse(self.backend.warehouse_id)
        self.assertEqual(binned(annex), [], "no warehouse on the backend: none")
        self.backend.warehouse_id = self.warehouse
        self.assertEqual(binned(annex), [], "not the backend's warehouse")
        self.assertEqual(
            binned(self.warehouse), [{"sku": "OW-1", "warehouse": self.warehouse.code}]
        )

    def test_a_transport_registered_elsewhere_delivers_its_mode(self):
        self.only("order.confirmed")
        self.subscription.write(
            {"delivery_mode": MODE[0], "url": False, "circuit_threshold": 2}
        )
        orders = self.make_order() | self.make_order()
        for order in orders:
            order.action_confirm()
        self.commit_hooks()
        self.assertEqual(self.dispatch(), "2 sent, state healthy")
        self.assertEqual(
            [m["data"]["name"] for m in self.broker.messages], orders.mapped("name")
        )
        self.assertEqual(self.receiver.received, [], "nothing POSTed")
        self.assertRecordValues(
            self.deliveries(),
            [{"state": "delivered", "response_excerpt": "queued"}] * 2,
        )
        # Its outcomes go through the same retries and circuit.
        self.broker.status = 503
        for _i in range(3):
            self.make_order().action_confirm()
        self.commit_hooks()
        self.dispatch()
        self.assertEqual(self.subscription.state, "paused")
        exception = self.env["retail.sync.exception"].search(
            [
                ("source_model", "=", self.subscription._name),
                ("source_id", "=", self.subscription.id),
            ]
        )
        self.assertIn("queue://test_shop", exception.cause)
        # Its refusal stops the subscription until someone resumes it.
        self.broker.status = 200
        self.broker.up = False
        self.subscription.action_resume()
        self.assertEqual(self.dispatch(), "refused: broker down")
        self.assertEqual(self.subscription.state, "stopped")
        self.broker.up = True
        self.subscription.action_resume()
        self.make_due()
        self.dispatch()
        self.assertEqual(set(self.deliveries().mapped("state")), {"delivered"})
