from odoo import fields
from odoo.tests import HttpCase, tagged

from odoo.addons.retail_integration.tests.common import secret_key_patcher


@tagged("retail", "-at_install", "post_install")
class TestUi(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(secret_key_patcher())
        cls.backend = cls.env.ref("retail_integration.demo_backend_storefront")

    def _subscription(self, name, **vals):
        """A subscription of the demo web shop to order.confirmed."""
        return self.env["retail.event.subscription"].create(
            {
                "name": name,
                "backend_id": self.backend.id,
                "url": "https://hooks.example.com/tour",
                "event_type_ids": self.env.ref(
                    "retail_integration_outbox.event_type_order_confirmed"
                ).ids,
                **vals,
            }
        )

    def test_operator_replays_a_dead_delivery(self):
        backend = self.backend
        subscription = self._subscription("Tour receiver")
        event = self.env["retail.outbox.event"].create(
            {
                "uuid": "0b7c2f5e-tour-0000-0000-000000000001",
                "event_type": "order.confirmed",
                "aggregate_model": "tour.case",
                "aggregate_id": 1,
                "aggregate_key": "tour.case,1",
                "sequence": 1,
                "payload": {"name": "TOUR"},
                "occurred_at": fields.Datetime.now(),
                "company_id": backend.company_id.id,
            }
        )
        delivery = self.env["retail.outbox.delivery"].create(
            {
                "event_id": event.id,
                "subscription_id": subscription.id,
                "backend_id": backend.id,
                "company_id": backend.company_id.id,
                "event_type": "order.confirmed",
                "aggregate_key": "tour.case,1",
                "sequence": 1,
                "state": "dead",
                "attempts": 8,
                "last_status_code": 500,
                "last_error": "HTTP 500",
            }
        )
        self.start_tour("/odoo", "retail_integration_outbox_replay_tour", login="admin")
        self.assertRecordValues(
            delivery, [{"state": "pending", "attempts": 0, "replay_count": 1}]
        )
        self.assertTrue(
            self.env["queue.job"].search(
                [("identity_key", "=", f"retail_outbox_dispatch:{subscription.id}")]
            )
        )

    def test_manager_rotates_a_secret_with_a_grace_period(self):
        old_secret = "whsec_" + "QUJD" * 8
        subscription = self._subscription(
            "Rotating receiver", signing_secret=old_secret
        )
        self.start_tour("/odoo", "retail_integration_outbox_rotate_tour", login="admin")
        self.assertEqual(
            subscription._get_secret("previous_signing_secret"), old_secret
        )
        self.assertNotEqual(subscription._get_secret("signing_secret"), old_secret)
        self.assertTrue(subscription.previous_secret_until)
