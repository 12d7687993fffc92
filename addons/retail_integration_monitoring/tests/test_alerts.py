import json
from datetime import timedelta
from pathlib import Path

from odoo.tests import tagged

from odoo.addons.retail_integration_outbox.tests.contracts import CONTRACTS, load

from ..lib import baseline
from .common import MonitoringCase

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


@tagged("retail", "post_install", "-at_install")
class TestAlerts(MonitoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        CONTRACTS.add("integration.alert.v1", load("integration.alert.v1", SCHEMAS))
        cls.owner = cls.env["res.users"].create(
            {
                "name": "Flow Owner",
                "login": "flow_owner",
                "groups_id": [
                    (6, 0, [cls.env.ref("retail_integration.group_retail_user").id])
                ],
            }
        )
        cls.pager = cls.make_subscription(
            cls.backend, types=["integration.alert"], name="Pager"
        )
        cls.channel = cls.env.ref(
            "retail_integration_monitoring.channel_integration_alerts"
        )
        for lag in range(1, 7):
            cls.message(cls.endpoint, ago=60 * lag, state="failed", lag=lag)
        cls.flow = cls.env["retail.monitor.flow"]
        cls.flow._sync_flows()
        cls.flow = cls.flow.search(
            [("key", "=", f"webhook.endpoint:{cls.endpoint.id}")]
        )
        cls.flow.owner_id = cls.owner

    def evaluate(self, minutes=0):
        now = self.now + timedelta(minutes=minutes)
        flows_ = self.flow.search([])
        return self.env["retail.monitor.incident"]._evaluate(flows_, now)

    def alerts(self):
        self.env.cr.flush()  # what happens at commit: the events are written
        events = self.env["retail.outbox.event"].search(
            [("event_type", "=", "integration.alert")], order="id"
        )
        for event in events:
            envelope = json.loads(event._body())
            self.assertIsNone(CONTRACTS.breach(envelope))
        return [e.payload for e in events]

    def channel_messages(self):
        return self.channel.message_ids.filtered(lambda m: m.message_type == "comment")

    def test_once_per_incident_then_recovery(self):
        self.flow._refresh_health(self.now)
        self.assertEqual(self.flow.sla_state, "breached")
        self.evaluate()
        incident = self.flow.incident_ids
        self.assertEqual(
            (len(incident), incident.kind, incident.state), (1, "breach", "open")
        )
        self.assertIn("100.0 % failed", incident.reason)
        activity = incident.activity_ids
        self.assertEqual(activity.user_id, self.owner)
        told = self.channel_messages()
        self.assertEqual(len(told), 1)
        self.assertIn(self.flow.name, told.body)
        alerts = self.alerts()
        self.assertEqual([a["status"] for a in alerts], ["firing"])
        self.assertEqual(alerts[0]["flow"]["owner"], "flow_owner")
        self.assertEqual(
            self.pager.delivery_ids.event_id.event_type, "integration.alert"
        )

        self.evaluate(minutes=5)  # still breached: nothing new
        self.assertEqual(len(self.flow.incident_ids), 1)
        self.assertEqual(len(self.channel_messages()), 1)
        self.assertEqual(len(self.alerts()), 1)

        self.env.cr.execute(
            "UPDATE retail_inbound_message SET state = 'done' WHERE endpoint_id = %s",
            [self.endpoint.id],
        )
        self.env["retail.inbound.message"].invalidate_model()
        self.flow._refresh_health(self.now + timedelta(minutes=10))
        self.assertEqual(self.flow.sla_state, "ok")
        self.evaluate(minutes=10)
        self.assertEqual(incident.state, "resolved")
        self.assertEqual(incident.resolved_at, self.now + timedelta(minutes=10))
        self.assertFalse(incident.activity_ids, "the owner's activity is done")
        self.assertEqual(len(self.channel_messages()), 2)
        self.assertIn("recovered", self.channel_messages()[0].body)
        self.assertEqual([a["status"] for a in self.alerts()], ["firing", "resolved"])

    def test_storm_is_grouped(self):
        Incident = self.env["retail.monitor.incident"]
        backends = [self.make_backend(f"Storm {i}", f"storm_{i}") for i in range(8)]
        for backend in backends:
            backend.state = "paused"  # its endpoint's circuit opens
            self.make_endpoint(backend, "Storm hooks")
        self.flow._sync_flows()
        flows_ = self.flow.search([])
        flows_._refresh_health(self.now)
        plan = Incident._evaluate(flows_, self.now)
        opened = Incident.search([("state", "=", "open")])
        self.assertGreaterEqual(len(opened), 9)
        self.assertEqual(len(plan.notify), 5)
        self.assertEqual(len(opened.filtered("notified")), 5)
        messages = self.channel_messages()
        self.assertEqual(len(messages), 6, "5 one by one, the rest in one digest")
        self.assertIn("grouped to avoid a storm", messages[0].body)
        self.assertEqual(len(self.alerts()), len(opened), "one event per incident")

    def test_silence_opens_an_incident(self):
        slot = baseline.slot_of(self.now)
        self.env.cr.execute(
            "DELETE FROM retail_inbound_message WHERE endpoint_id = %s",
            [self.endpoint.id],
        )
        self.flow.baseline = {str(slot): [35.0, 64.0, 6]}
        self.flow._refresh_health(self.now)
        Hint = self.env["retail.monitor.hint"]
        (hint,) = Hint._detect(self.flow, self.now)
        self.assertEqual(hint.kind, "silence")
        self.assertIn("at this hour 35 ± 8 are usual", hint.message)
        self.assertIn("0 seen where 35 ± 8", hint.why)
        self.evaluate()
        self.assertEqual(self.flow.incident_ids.kind, "silence")
        k = self.flow.anomaly_k
        hint.action_noise()
        self.assertGreater(self.flow.anomaly_k, k)
        self.assertEqual(hint.feedback, "noise")
        # Traffic is back: the hint closes and the incident recovers.
        for _i in range(35):
            self.message(self.endpoint, ago=30, lag=1)
        self.flow._refresh_health(self.now)
        self.assertFalse(Hint._detect(self.flow, self.now))
        self.assertEqual(hint.state, "closed")
        self.evaluate(minutes=5)
        self.assertEqual(self.flow.incident_ids.state, "resolved")


@tagged("retail", "post_install", "-at_install")
class TestCauses(MonitoringCase):
    def test_open_exceptions_grouped_with_past_resolution(self):
        Exception_ = self.env["retail.sync.exception"]
        fixer = self.env["res.users"].create(
            {"name": "Stock Desk", "login": "stock_desk"}
        )

        def report(order):
            return Exception_._report(
                f"No product has the SKU ACME-{order}.",
                name=f"Unknown SKU in web order #{order}",
                backend=self.backend,
                kind="mapping",
            )

        past = report(900)
        past.write({"user_id": fixer.id})
        past.message_post(
            body="Mapped the SKU to the product in Inventory, then retried.",
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        past.action_resolve()
        for order in (1001, 1002, 1003):
            report(order)
        Exception_.flush_model()
        cause = self.env["retail.monitor.cause"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertEqual(len(cause), 1, "three orders, one cause")
        self.assertEqual(cause.name, "Unknown SKU in web order #N")
        self.assertEqual((cause.open_count, cause.resolved_before), (3, 1))
        self.assertEqual(cause.suggested_owner_id, fixer)
        self.assertIn("Mapped the SKU", cause.suggested_fix)
        action = cause.action_open_exceptions()
        self.assertEqual(
            self.env["retail.sync.exception"].search_count(action["domain"]), 3
        )
