import json
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError

from odoo.addons.retail_integration.tests.common import RetailCase
from odoo.addons.retail_integration_storefront.tests.payloads import generic_order

from ..lib.pii import MASK


class TestMasking(RetailCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.endpoint = cls.env["retail.webhook.endpoint"].create(
            {"name": "Orders", "backend_id": cls.backend.id}
        )
        cls.Message = cls.env["retail.inbound.message"]
        cls.Message._cron_mask_pii(batch=10**6)  # what the database held before

    def message(self, state, days_ago=0):
        """A message stored as the accept path stores it."""
        return self.Message._insert_once(
            self.endpoint,
            topic="order.created",
            delivery_id=f"d-{state}-{days_ago}-{self.Message.search_count([])}",
            correlation_id=None,
            body=json.dumps(generic_order()),
            body_hash=None,
            headers={},
            state=state,
            now=fields.Datetime.now() - timedelta(days=days_ago),
        )

    def test_processed_masked_waiting_kept_failed_after_retention(self):
        done = self.message("done")
        ignored = self.message("ignored")
        queued = self.message("queued", days_ago=60)
        failed_new = self.message("failed", days_ago=1)
        failed_old = self.message("failed", days_ago=8)  # personal: 7 days
        self.Message._cron_mask_pii()
        for message in (done, ignored, failed_old):
            body = json.loads(message.body)
            self.assertEqual(body["customer"]["email"], MASK)
            self.assertEqual(body["customer"]["id"], "C-501")
            self.assertEqual(body["lines"], generic_order()["lines"])
            self.assertEqual(message.pii_masked_count, 15)
            self.assertTrue(message.pii_masked_at)
        for message in (queued, failed_new):
            self.assertEqual(json.loads(message.body), generic_order())
            self.assertFalse(message.pii_masked_at)
        # A masked message would import masked names: no retry.
        with self.assertRaisesRegex(UserError, "masked"):
            failed_old.action_retry()
        failed_new.action_retry()
        self.assertEqual(failed_new.state, "queued")

    def test_retention_follows_the_data_class(self):
        self.endpoint.data_classification = "internal"  # 30 days
        failed = self.message("failed", days_ago=8)
        self.Message._cron_mask_pii()
        self.assertFalse(failed.pii_masked_at)
        self.env["ir.config_parameter"].set_param(
            "retail_integration_governance.pii_retention_days.internal", "5"
        )
        self.Message._cron_mask_pii()
        self.assertTrue(failed.pii_masked_at)

    def test_batches_trigger_the_next_run(self):
        messages = self.message("done") | self.message("done") | self.message("done")
        cron = self.env.ref("retail_integration_governance.ir_cron_mask_inbound_pii")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.assertEqual(self.Message._cron_mask_pii(batch=2)[0], 2)
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            triggers + 1,
        )
        self.assertEqual(self.Message._cron_mask_pii(batch=2)[0], 1)
        self.assertTrue(all(messages.mapped("pii_masked_at")))
        # Checked once: a second pass reads nothing.
        self.assertEqual(self.Message._cron_mask_pii(), (0, 0))


class TestOutboxMasking(RetailCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.subscription = cls.env["retail.event.subscription"].create(
            {
                "name": "Receiver",
                "backend_id": cls.backend.id,
                "url": "https://hooks.example.com/in",
                "event_type_ids": cls.env.ref(
                    "retail_integration_outbox.event_type_order_confirmed"
                ).ids,
            }
        )

    def event(self, delivery_state, days_ago=0):
        n = self.env["retail.outbox.event"].search_count([])
        event = self.env["retail.outbox.event"].create(
            {
                "uuid": f"evt-{delivery_state}-{days_ago}-{n}",
                "event_type": "order.confirmed",
                "aggregate_model": "sale.order",
                "aggregate_id": 1,
                "aggregate_key": "sale.order,1",
                "sequence": n + 1,
                "payload": {
                    "name": "S00001",
                    "partner": {
                        "id": 1,
                        "name": "Jane Doe",
                        "email": "j@example.com",
                        "ref": "C-1",
                        "country": "US",
                    },
                    "amount_total": 10.0,
                },
                "occurred_at": fields.Datetime.now() - timedelta(days=days_ago),
                "company_id": self.backend.company_id.id,
            }
        )
        self.env["retail.outbox.delivery"].create(
            {
                "event_id": event.id,
                "subscription_id": self.subscription.id,
                "backend_id": self.backend.id,
                "company_id": self.backend.company_id.id,
                "event_type": "order.confirmed",
                "aggregate_key": "sale.order,1",
                "sequence": n + 1,
                "state": delivery_state,
            }
        )
        return event

    def test_delivered_masked_pending_kept_dead_after_retention(self):
        self.env["retail.outbox.event"]._cron_mask_pii(batch=10**6)
        delivered = self.event("delivered")
        pending = self.event("pending", days_ago=30)
        dead_new = self.event("dead", days_ago=1)
        dead_old = self.event("dead", days_ago=8)
        self.env["retail.outbox.event"]._cron_mask_pii()
        for event in (delivered, dead_old):
            self.assertEqual(
                event.payload["partner"],
                {"id": 1, "name": MASK, "email": MASK, "ref": "C-1", "country": "US"},
            )
            self.assertEqual(event.payload["amount_total"], 10.0)
        for event in (pending, dead_new):
            self.assertEqual(event.payload["partner"]["name"], "Jane Doe")
            self.assertFalse(event.pii_masked_at)
        with self.assertRaisesRegex(UserError, "masked"):
            dead_old.delivery_ids.action_replay()
        dead_new.delivery_ids.action_replay()
        self.assertEqual(dead_new.delivery_ids.state, "pending")
