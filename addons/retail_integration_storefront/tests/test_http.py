import json

from odoo.tests import HttpCase, tagged

from odoo.addons.retail_integration_webhook.tests.common import drain_jobs, sign

from . import payloads
from .common import SCHEMES, StorefrontMixin


@tagged("retail", "-at_install", "post_install")
class TestWebhookToOrder(StorefrontMixin, HttpCase):
    """Signed webhooks through the real route, then their job."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_storefront()

    def post(self, provider, payload, topic, secret=None):
        if provider == "generic":
            payload = {"type": topic, "timestamp": 1, "data": payload}
        body = json.dumps(payload).encode()
        headers = sign(SCHEMES[provider], body, secret, topic=topic)
        token = self.endpoints[provider].sudo().token
        return self.url_open(f"/retail/webhook/{token}", data=body, headers=headers)

    def last_message(self, provider):
        return self.env["retail.inbound.message"].search(
            [("endpoint_id", "=", self.endpoints[provider].id)], limit=1
        )

    def test_generic_signed_order_becomes_a_confirmed_sale_order(self):
        response = self.post("generic", self.order_data(), "order.created")
        self.assertEqual(response.status_code, 202, response.text)
        message = self.last_message("generic")
        self.assertEqual((message.topic, message.state), ("order.created", "queued"))
        self.assertEqual(message.aggregate_key, "order:T-1", "one order, in order")
        self.assertTrue(drain_jobs(self.env, message.backend_id))
        message._process()
        self.assertEqual(message.state, "done", message.error)
        order = self.order_of("T-1")
        self.assertEqual((order.state, order.amount_total), ("sale", 62.0))
        # the same delivery again is a duplicate at the door; a new one changes nothing
        self.assertEqual(
            self.post("generic", self.order_data(), "order.paid").status_code, 202
        )
        self.last_message("generic")._process()
        self.assertEqual(
            self.env["sale.order"].search_count([("retail_order_name", "=", "#T-1")]), 1
        )

    def test_shopify_and_woocommerce_signed_orders(self):
        for provider, payload, topic, external_id in (
            (
                "shopify",
                payloads.shopify_order(),
                "orders/create",
                "820982911946154508",
            ),
            ("woocommerce", payloads.woo_order(), "order.created", "727"),
        ):
            with self.subTest(provider=provider):
                self.assertEqual(self.post(provider, payload, topic).status_code, 202)
                message = self.last_message(provider)
                self.assertEqual(message.aggregate_key, f"order:{external_id}")
                message._process()
                self.assertEqual(message.state, "done", message.error)
                self.assertEqual(self.order_of(external_id, provider).state, "sale")

    def test_an_orders_webhooks_share_an_aggregate_key_its_refunds_none(self):
        """A refund that comes before its order waits for it by retrying:
        keyed, it would hold that order back behind it."""
        key = self.env["retail.inbound.message"]._aggregate_key
        self.assertEqual(key("orders/updated", {"id": 42}), "order:42")
        self.assertIsNone(key("refunds/create", {"id": 7, "order_id": 42}))
        self.assertEqual(key("order.paid", {"data": {"id": "T-9"}}), "order:T-9")
        long_id = key("order.updated", {"id": "a\x00b" + "x" * 200})
        self.assertEqual((long_id[:8], len(long_id)), ("order:ab", 106), "storable")
        for topic, payload in (
            ("orders/create", {"id": None}),
            ("orders/create", {"id": True}),
            ("orders/create", {"id": {"nested": 1}}),
            ("orders/create", ["not", "an", "object"]),
            ("ping", {"id": 42}),  # not a storefront topic
        ):
            self.assertIsNone(key(topic, payload), (topic, payload))

    def test_hostile_payloads_are_stored_and_fail_without_creating_anything(self):
        orders = self.env["sale.order"].search_count([])
        partners = self.env["res.partner"].search_count([])
        hostile = payloads.shopify_order()
        hostile["line_items"][0]["quantity"] = "999999999999"
        hostile["line_items"][1]["price"] = {"$gt": ""}
        self.assertEqual(
            self.post("shopify", hostile, "orders/create").status_code, 202
        )
        message = self.last_message("shopify")
        message._process()
        self.assertEqual(message.state, "failed")
        self.assertIn("The order cannot be read", message.error)
        self.assertEqual(self.env["sale.order"].search_count([]), orders)
        self.assertEqual(self.env["res.partner"].search_count([]), partners)

    def test_a_forged_order_is_refused_at_the_door(self):
        response = self.post(
            "generic",
            self.order_data(),
            "order.created",
            secret="whsec_Zm9yZ2VkLXNlY3JldC1mb3JnZWQ=",
        )
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self.last_message("generic"))
