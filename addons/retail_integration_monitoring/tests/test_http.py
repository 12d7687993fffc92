from contextlib import closing
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from odoo import sql_db
from odoo.tests import HttpCase, tagged

from ..models.retail_monitor_flow_export import RUNNER_LOCK_ID
from .common import MonitoringCase

TOKEN = "scrape-token-0123456789abcdef0123456789abcdef"


@tagged("retail", "post_install", "-at_install")
class TestEndpoints(MonitoringCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.message(cls.endpoint, ago=60, lag=2)
        cls.message(cls.endpoint, ago=120, state="failed", lag=2)
        cls.env["retail.monitor.token"].create({"name": "Prometheus", "token": TOKEN})
        cls.env["retail.monitor.kpi.value"]._refresh(cls.now)
        cls.env["retail.monitor.flow"]._sync_flows()
        cls.env["retail.monitor.flow"]._refresh_health(cls.now)  # the cron's measure

    def scrape(self, headers=None):
        return self.url_open(
            "/retail/metrics", headers=headers or {}, allow_redirects=False
        )

    def test_metrics_parsed_with_prometheus_client(self):
        response = self.scrape({"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(response.status_code, 200)
        self.assertTrue(
            response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        )
        families = {f.name: f for f in text_string_to_metric_families(response.text)}
        key = f"webhook.endpoint:{self.endpoint.id}"
        volume = {
            s.labels["window"]: s.value
            for s in families["retail_flow_volume"].samples
            if s.labels["flow"] == key
        }
        self.assertEqual(volume, {"1h": 2.0, "24h": 2.0})
        failures = [
            s.value
            for s in families["retail_flow_failure_ratio"].samples
            if s.labels["flow"] == key
        ]
        self.assertEqual(failures, [0.5])
        kpis = {s.labels["kpi"] for s in families["retail_kpi_state"].samples}
        self.assertIn("webhook_failure_rate", kpis)
        self.assertIn("retail_flow_items", families)
        self.assertNotIn(TOKEN, response.text)

    def test_recent_stored_measure_is_served(self):
        flow = self.env["retail.monitor.flow"].search(
            [("key", "=", f"webhook.endpoint:{self.endpoint.id}")]
        )
        flow._refresh_health()
        self.message(self.endpoint, ago=1, lag=0)  # after the stored measure
        response = self.scrape({"Authorization": f"Bearer {TOKEN}"})
        families = {f.name: f for f in text_string_to_metric_families(response.text)}
        volume = [
            s.value
            for s in families["retail_flow_volume"].samples
            if s.labels["flow"] == flow.key and s.labels["window"] == "1h"
        ]
        self.assertEqual(volume, [2.0], "the cron's measure of a moment ago")
        ages = [
            s.value
            for s in families["retail_flow_measure_age_seconds"].samples
            if s.labels["flow"] == flow.key
        ]
        self.assertEqual(len(ages), 1)
        self.assertLess(ages[0], 60)
        # The cron stopped an hour ago: the same measure, an hour old.
        flow.health_at = flow.health_at - timedelta(hours=1)
        response = self.scrape({"Authorization": f"Bearer {TOKEN}"})
        families = {f.name: f for f in text_string_to_metric_families(response.text)}
        samples = {
            (family, s.labels.get("window")): s.value
            for family in ("retail_flow_volume", "retail_flow_measure_age_seconds")
            for s in families[family].samples
            if s.labels["flow"] == flow.key
        }
        self.assertEqual(samples["retail_flow_volume", "1h"], 2.0, "nothing measured")
        self.assertGreaterEqual(samples["retail_flow_measure_age_seconds", None], 3600)
        # A flow never measured is left out until the cron measures it.
        flow.health_at = False
        response = self.scrape({"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(response.status_code, 200)
        self.assertNotIn(f'flow="{flow.key}"', response.text)

    def test_metrics_refused_without_the_token(self):
        for headers in (
            {},
            {"Authorization": "Bearer"},
            {"Authorization": "Bearer wrong-token"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": TOKEN},
            {"Authorization": "Bearer " + "x" * 5000},
            {"Authorization": "Bearer ' OR 1=1 --"},
        ):
            response = self.scrape(headers)
            self.assertEqual(
                response.status_code, 401, headers.get("Authorization", "")[:30]
            )
            self.assertIn("Bearer", response.headers["WWW-Authenticate"])
            self.assertNotIn("retail_flow", response.text)
        response = self.url_open(
            "/retail/metrics", data=b"x", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        self.assertIn(response.status_code, (403, 405), "GET only")

    def test_archived_token_is_refused(self):
        self.env["retail.monitor.token"].search([]).active = False
        self.assertEqual(
            self.scrape({"Authorization": f"Bearer {TOKEN}"}).status_code, 401
        )

    def test_health(self):
        live = self.url_open("/retail/health?probe=live")
        self.assertEqual(live.status_code, 200)
        self.assertEqual(live.json()["checks"]["database"]["ok"], True)
        ready = self.url_open("/retail/health")
        self.assertEqual(ready.status_code, 503, "no job runner in a test server")
        odd = self.url_open(
            "/retail/health?probe=%27%3B+DROP+TABLE+x&probe=" + "y" * 3000
        )
        self.assertEqual(odd.status_code, 503, "anything but live is readiness")
        self.assertEqual(ready.json()["checks"]["job_runner"], {"ok": False})
        # A runner holds its lock on the database: taken here the same way.
        # (a connection of its own: the test's cursors share one transaction)
        with closing(sql_db.db_connect(self.env.cr.dbname).cursor()) as cr:
            cr.execute("SELECT pg_advisory_lock(%s)", [RUNNER_LOCK_ID])
            try:
                ready = self.url_open("/retail/health")
                self.assertEqual(ready.status_code, 200, ready.text)
                self.assertEqual(ready.json()["status"], "ok")
            finally:
                cr.execute("SELECT pg_advisory_unlock(%s)", [RUNNER_LOCK_ID])

    def test_stalled_channel(self):
        Flow = self.env["retail.monitor.flow"]
        self.assertEqual(Flow._stalled_channels(), [])
        self.env.cr.execute(
            """INSERT INTO queue_job
                   (uuid, name, channel, state, date_created, model_name,
                    method_name, retry, max_retries, priority)
               VALUES ('stalled-1', 'stalled', 'root.retail.stalled', 'pending',
                       (now() at time zone 'utc') - interval '1 hour',
                       'retail.monitor.flow', '_cron_monitor', 0, 5, 10)"""
        )
        self.assertEqual(Flow._stalled_channels(), ["root.retail.stalled"])
        report = Flow._health_report()
        self.assertEqual(
            report["checks"]["channels"],
            {"ok": False, "stalled": ["root.retail.stalled"]},
        )
