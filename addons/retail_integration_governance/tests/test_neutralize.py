import json

from odoo.modules import neutralize
from odoo.tests import HttpCase, tagged

from odoo.addons.retail_integration.tests.common import secret_key_patcher


@tagged("retail", "-at_install", "post_install")
class TestNeutralize(HttpCase):
    """The queries ``odoo-bin neutralize`` and a restore as a copy run (every
    installed module's data/neutralize.sql), run here in the test's
    transaction."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(secret_key_patcher())
        cls.backend = cls.env["retail.backend"].create(
            {"name": "Live shop", "code": "gov_live", "state": "active"}
        )
        cls.endpoint = cls.env["retail.webhook.endpoint"].create(
            {"name": "Live hooks", "backend_id": cls.backend.id}
        )
        cls.subscription = cls.env["retail.event.subscription"].create(
            {
                "name": "Live receiver",
                "backend_id": cls.backend.id,
                "url": "https://hooks.example.com/in",
                "event_type_ids": cls.env.ref(
                    "retail_integration_outbox.event_type_order_confirmed"
                ).ids,
            }
        )

    def neutralize(self):
        self.env.flush_all()
        modules = neutralize.get_installed_modules(self.env.cr)
        queries = list(neutralize.get_neutralization_queries(modules))
        for query in queries:
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        self.env.registry.clear_cache("templates")

    def post(self, endpoint):
        return self.url_open(
            f"/retail/webhook/{endpoint.sudo().token}",
            data=json.dumps({"id": "evt_1"}),
            headers={"Content-Type": "application/json"},
        )

    def test_a_neutralized_copy_talks_to_no_channel(self):
        self.assertEqual(self.post(self.endpoint).status_code, 401)  # unsigned
        # A job of production copied with the data: it would call the channel.
        job = self.backend._with_delay(self.backend).action_draft().db_record()
        self.assertEqual(job.state, "pending")
        self.neutralize()
        self.assertEqual(job.state, "cancelled")
        self.assertEqual(self.backend.state, "paused")
        sub = self.subscription.with_context(active_test=False)
        self.assertFalse(sub.active)
        self.assertEqual(sub.state, "stopped")
        self.assertTrue(self.endpoint.neutralized)
        response = self.post(self.endpoint)
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["error"], "neutralized")
        self.assertFalse(
            self.env["retail.inbound.message"].search(
                [("endpoint_id", "=", self.endpoint.id)]
            )
        )
        # The web client says so.
        self.authenticate("admin", "admin")
        self.assertIn("oe_neutralize_banner", self.url_open("/odoo").text)
        # A tester points a channel at the copy: on purpose, endpoint by endpoint.
        self.endpoint.action_accept_traffic()
        self.assertEqual(self.post(self.endpoint).status_code, 401)
