import json

from odoo.tests import HttpCase, tagged

from .common import WebhookCaseMixin, drain_jobs


@tagged("retail", "-at_install", "post_install")
class TestWebhookUi(WebhookCaseMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_endpoints()

    def test_retry_a_failed_message(self):
        message = self.env["retail.inbound.message"]._insert_once(
            self.endpoints["shopify"],
            topic="orders/create",
            delivery_id="tour-1",
            body=json.dumps({"id": 1}),
            body_hash="h",
            headers={},
            state="failed",
            correlation_id="tour",
        )
        message.error = "No product has the SKU TOUR-SKU."
        self.start_tour(
            "/odoo/action-retail_integration_webhook.retail_inbound_message_action",
            "retail_integration_webhook_tour",
            login="admin",
        )
        self.assertEqual(message.state, "queued")
        self.assertTrue(drain_jobs(self.env, message.backend_id))
