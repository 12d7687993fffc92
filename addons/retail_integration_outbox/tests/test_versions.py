"""Versions of an event type's data side by side: a test-only version 2 of
order.confirmed, registered here as a module making a breaking change would."""

import datetime

from odoo.tests import tagged

from ..lib import events, payloads
from .common import SECRET, OutboxCase, Receiver
from .contracts import CONTRACTS

V2_SCHEMA = {
    "type": "object",
    "required": ["reference", "total"],
    "properties": {
        "reference": {"type": "string"},
        "total": {
            "type": "object",
            "required": ["amount", "currency"],
            "properties": {
                "amount": {"type": "number"},
                "currency": {"type": "string"},
            },
        },
    },
}


def order_confirmed_v2(order, scope):
    if order.state not in ("sale", "done"):
        return None
    return {
        "reference": order.name,
        "total": {"amount": order.amount_total, "currency": order.currency_id.name},
    }


@tagged("retail", "post_install", "-at_install")
class TestVersions(OutboxCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        payloads.register(events.ORDER_CONFIRMED, 2)(order_confirmed_v2)
        cls.addClassCleanup(payloads.unregister, events.ORDER_CONFIRMED, 2)
        CONTRACTS.add("order.confirmed.v2", V2_SCHEMA)
        cls.addClassCleanup(CONTRACTS.remove, "order.confirmed.v2")
        # A v2 of a coalesced type, listed by the test that uses it.
        payloads.register(events.STOCK_LEVEL_CHANGED, 2)(
            lambda product, scope: {"sku": product.default_code}
        )
        cls.addClassCleanup(payloads.unregister, events.STOCK_LEVEL_CHANGED, 2)
        CONTRACTS.add(
            "stock.level_changed.v2",
            {"type": "object", "properties": {"sku": {"type": "string"}}},
        )
        cls.addClassCleanup(CONTRACTS.remove, "stock.level_changed.v2")
        cls.order_type = cls.env.ref(
            "retail_integration_outbox.event_type_order_confirmed"
        )
        cls.v1 = cls.env.ref(
            "retail_integration_outbox.event_version_order_confirmed_1"
        )
        cls.v2 = cls.env["retail.outbox.event.version"].create(
            {"type_id": cls.order_type.id, "version": 2, "stable": False}
        )
        cls.receiver_v2 = Receiver().start()
        cls.addClassCleanup(cls.receiver_v2.stop)
        cls.subscription_v2 = cls.env["retail.event.subscription"].create(
            {
                "name": "Receiver on v2",
                "backend_id": cls.backend.id,
                "url": cls.receiver_v2.url,
                "signing_secret": SECRET,
                "event_type_ids": [(6, 0, cls.order_type.ids)],
                "payload_version": 2,
            }
        )

    def setUp(self):
        super().setUp()
        self.receiver_v2.received = []

    def confirm(self):
        order = self.make_order()
        order.action_confirm()
        self.commit_hooks()
        self.dispatch()
        self.dispatch(self.subscription_v2)
        return order

    def test_each_subscription_gets_the_version_it_takes(self):
        self.only(events.ORDER_CONFIRMED)
        order = self.confirm()
        event = self.events(events.ORDER_CONFIRMED, order)
        self.assertEqual(len(event), 1, "one event, in both versions")
        self.assertEqual(event.version, 1, "a preview is not the default")
        self.assertEqual(event.extra_payloads["2"]["reference"], order.name)
        [v1] = self.receiver.received
        [v2] = self.receiver_v2.received
        self.assertTrue(v1["verified"] and v2["verified"])
        self.assertEqual(v1["headers"]["webhook-id"], v2["headers"]["webhook-id"])
        self.assertEqual((v1["json"]["version"], v2["json"]["version"]), (1, 2))
        self.assertEqual(v1["json"]["data"]["name"], order.name)
        total = {"amount": order.amount_total, "currency": order.currency_id.name}
        self.assertEqual(v2["json"]["data"], {"reference": order.name, "total": total})
        self.assertEqual(
            self.env["retail.outbox.delivery"]
            .search([("event_id", "=", event.id)])
            .sorted("subscription_id")
            .mapped("version"),
            [1, 2],
        )
        for request in (v1, v2):
            self.assertNotIn("deprecation", request["headers"])

    def test_a_deprecated_version_says_so_on_its_deliveries(self):
        self.only(events.ORDER_CONFIRMED)
        self.v1.write(
            {
                "deprecated_on": datetime.date(2027, 1, 1),
                "sunset_on": datetime.date(2027, 7, 1),
            }
        )
        self.confirm()
        [v1] = self.receiver.received
        [v2] = self.receiver_v2.received
        self.assertEqual(v1["headers"]["deprecation"], "@1798761600")
        self.assertEqual(v1["headers"]["sunset"], "Thu, 01 Jul 2027 00:00:00 GMT")
        self.assertNotIn("deprecation", v2["headers"])
        self.assertNotIn("sunset", v2["headers"])

    def test_new_subscriptions_take_the_newest_stable_version(self):
        Subscription = self.env["retail.event.subscription"]
        self.assertEqual(Subscription._default_payload_version(), 1)
        self.assertEqual(self.subscription.payload_version, 1)
        self.v2.stable = True
        self.assertEqual(Subscription._default_payload_version(), 2)
        self.assertEqual(self.subscription.payload_version, 1, "kept: it chose 1")
        # A stable v2 is the default an event is written in; v1 subscriptions
        # keep getting v1.
        self.only(events.ORDER_CONFIRMED)
        order = self.confirm()
        event = self.events(events.ORDER_CONFIRMED, order)
        self.assertEqual(event.version, 2)
        self.assertEqual(set(event.extra_payloads), {"1"})
        self.assertEqual(self.receiver.received[0]["json"]["version"], 1)
        self.assertEqual(self.receiver.received[0]["json"]["data"]["name"], order.name)
        self.assertEqual(self.receiver_v2.received[0]["json"]["version"], 2)

    def test_a_coalesced_delivery_follows_its_subscriptions_version(self):
        """A pending state delivery that a newer event replaces carries the
        newer event in the version its subscription takes now."""
        stock_type = self.env.ref(
            "retail_integration_outbox.event_type_stock_level_changed"
        )
        self.env["retail.outbox.event.version"].create(
            {"type_id": stock_type.id, "version": 2, "stable": False}
        )
        self.only(events.STOCK_LEVEL_CHANGED)
        self.receiver.reply(503)
        self.add_stock(5)
        self.commit_hooks()
        self.dispatch()
        delivery = self.deliveries()
        self.assertEqual((delivery.state, delivery.version), ("failed", 1))
        self.subscription.payload_version = 2
        self.add_stock(1)
        self.commit_hooks()
        self.assertRecordValues(delivery, [{"coalesced_count": 1, "version": 2}])
        self.receiver.reply(200)
        self.make_due()
        self.dispatch()
        self.assertEqual(
            [(r["json"]["version"], r["json"]["data"]) for r in self.receiver.received],
            [(1, self.receiver.received[0]["json"]["data"]), (2, {"sku": "OW-1"})],
        )
