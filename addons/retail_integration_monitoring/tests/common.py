"""Fixtures with known answers: messages, events and deliveries written the
way the other modules write them, then dated by SQL so that every window,
lag and age is known. Other modules' tests may import them to check the
flows they register."""

import json
import uuid
from datetime import timedelta

from odoo import fields

from odoo.addons.retail_integration.tests.common import RetailCase
from odoo.addons.retail_integration_outbox.tests.common import (
    SECRET,
    allow_private_urls,
)

from ..lib import flows


class MonitoringCase(RetailCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(allow_private_urls())
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.backend.write({"state": "active"})
        cls.endpoint = cls.make_endpoint(cls.backend)
        cls.Flow = cls.env["retail.monitor.flow"]

    @classmethod
    def make_endpoint(cls, backend, name="Shop hooks"):
        return cls.env["retail.webhook.endpoint"].create(
            {
                "name": name,
                "backend_id": backend.id,
                "scheme": "shopify",
                "secret": "shpss_monitoring_test",
            }
        )

    @classmethod
    def make_backend(cls, name, code, company=None, **vals):
        return cls.env["retail.backend"].create(
            {
                "name": name,
                "code": code,
                "channel_type": "storefront",
                "state": "active",
                "company_id": (company or cls.env.company).id,
                **vals,
            }
        )

    @classmethod
    def message(
        cls,
        endpoint,
        ago,
        state="done",
        lag=None,
        topic="orders/create",
        correlation=None,
    ):
        """A webhook received ``ago`` seconds before ``now``, processed
        ``lag`` seconds after it came (when it was)."""
        Message = cls.env["retail.inbound.message"]
        message = Message._insert_once(
            endpoint,
            topic=topic,
            delivery_id=uuid.uuid4().hex,
            body=json.dumps({"id": 1}),
            body_hash="h",
            headers={},
            state=state,
            correlation_id=correlation or uuid.uuid4().hex,
        )
        received = cls.now - timedelta(seconds=ago)
        processed = received + timedelta(seconds=lag) if lag is not None else None
        cls.env.cr.execute(
            """UPDATE retail_inbound_message
                  SET received_at = %s, processed_at = %s, attempts = %s
                WHERE id = %s""",
            [received, processed, 1 if processed else 0, message.id],
        )
        message.invalidate_recordset()
        return message

    @classmethod
    def make_subscription(cls, backend, mode="webhook", types=None, name="Receiver"):
        types = cls.env["retail.outbox.event.type"].search(
            [("code", "in", types)] if types else []
        )
        vals = {
            "name": name,
            "backend_id": backend.id,
            "delivery_mode": mode,
            "event_type_ids": [(6, 0, types.ids)],
        }
        if mode == "webhook":
            vals.update(url="http://127.0.0.1:9/hook", signing_secret=SECRET)
        return cls.env["retail.event.subscription"].create(vals)

    @classmethod
    def delivery(
        cls,
        subscription,
        ago,
        state="delivered",
        lag=None,
        event_type="order.confirmed",
    ):
        """An event that occurred ``ago`` seconds before ``now`` and its
        delivery, delivered ``lag`` seconds after the event (when it was)."""
        occurred = cls.now - timedelta(seconds=ago)
        event = cls.env["retail.outbox.event"].create(
            {
                "uuid": str(uuid.uuid4()),
                "event_type": event_type,
                "occurred_at": occurred,
                "company_id": subscription.company_id.id,
                "aggregate_key": f"test:{uuid.uuid4().hex}",
                "payload": {},
            }
        )
        delivery = cls.env["retail.outbox.delivery"].create(
            {
                "event_id": event.id,
                "subscription_id": subscription.id,
                "backend_id": subscription.backend_id.id,
                "company_id": subscription.company_id.id,
                "event_type": event_type,
                "aggregate_key": event.aggregate_key,
                "state": state,
                "attempts": 0 if state == "pending" else 1,
                "delivered_at": occurred + timedelta(seconds=lag)
                if lag is not None
                else False,
            }
        )
        # queued with its event, as the outbox does
        cls.env.cr.execute(
            "UPDATE retail_outbox_delivery SET create_date = %s WHERE id = %s",
            [occurred, delivery.id],
        )
        delivery.invalidate_recordset()
        return delivery

    def flow(self, source, ref):
        self.Flow._sync_flows()
        return self.Flow.search([("key", "=", flows.flow_key(source, ref))])

    def measured(self, source, ref, now=None):
        flow = self.flow(source, ref)
        flow._refresh_health(now or self.now)
        return flow
