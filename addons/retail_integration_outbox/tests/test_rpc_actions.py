from odoo import fields
from odoo.tests import HttpCase, tagged

from odoo.addons.retail_integration.tests.common import secret_key_patcher


@tagged("retail", "-at_install", "post_install")
class TestActionsOverXmlRpc(HttpCase):
    """Scripts drive the buttons over XML-RPC, which cannot marshal None: an
    action that returned None did its work, then failed for the script. Every
    button of the outbox, called once through the HTTP server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(secret_key_patcher())
        cls.admin = cls.env.ref("base.user_admin")
        backend = cls.env.ref("retail_integration.demo_backend_storefront")
        cls.subscription = cls.env["retail.event.subscription"].create(
            {
                "name": "RPC receiver",
                "backend_id": backend.id,
                "url": "https://hooks.example.com/rpc",
                "event_type_ids": cls.env.ref(
                    "retail_integration_outbox.event_type_order_confirmed"
                ).ids,
            }
        )
        partner = cls.admin.partner_id
        cls.event = cls.env["retail.outbox.event"].create(
            {
                "uuid": "0b7c2f5e-rpc0-0000-0000-000000000001",
                "event_type": "order.confirmed",
                "aggregate_model": partner._name,
                "aggregate_id": partner.id,
                "aggregate_key": f"{partner._name},{partner.id}",
                "sequence": 1,
                "payload": {"name": "RPC"},
                "occurred_at": fields.Datetime.now(),
                "company_id": backend.company_id.id,
            }
        )
        cls.delivery = cls.env["retail.outbox.delivery"].create(
            {
                "event_id": cls.event.id,
                "subscription_id": cls.subscription.id,
                "backend_id": backend.id,
                "company_id": backend.company_id.id,
                "event_type": "order.confirmed",
                "aggregate_key": cls.event.aggregate_key,
                "sequence": 1,
                "state": "dead",
                "attempts": 8,
            }
        )
        cls.wizard = cls.env["retail.outbox.replay.wizard"].create(
            {"subscription_id": cls.subscription.id}
        )

    def _call(self, record, method):
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, self.admin.id, "admin", record._name, method,
            [record.ids],
        )  # fmt: skip

    def test_every_button_answers_a_value(self):
        subscription = self.subscription
        subscription.write({"state": "paused", "state_reason": "HTTP 503"})
        calls = [
            (subscription, "action_show_secret"),
            (subscription, "action_rotate_secret"),
            (subscription, "action_resume"),
            (subscription, "action_open_deliveries"),
            (subscription, "action_open_replay"),
            (self.delivery, "action_replay"),
            (self.event, "action_open_aggregate"),
            (self.wizard, "action_replay"),
        ]
        for record, method in calls:
            with self.subTest(model=record._name, method=method):
                self.assertIsNotNone(self._call(record, method))
        self.assertEqual(subscription.state, "healthy", "resumed")
        self.assertRecordValues(
            self.delivery, [{"state": "pending", "replay_count": 2}]
        )
