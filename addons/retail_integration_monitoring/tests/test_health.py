from datetime import timedelta

from odoo.tests import tagged

from ..lib import flows
from .common import MonitoringCase


@tagged("retail", "post_install", "-at_install")
class TestFlowHealth(MonitoringCase):
    """Every number of a flow's health, on fixtures with known answers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The last hour: 7 done in 1..7 s, 2 failed, 1 waiting for 10 min.
        for lag in range(1, 8):
            cls.message(cls.endpoint, ago=60 * lag, lag=lag)
        cls.failed = cls.message(cls.endpoint, ago=100, state="failed", lag=2) | (
            cls.message(cls.endpoint, ago=200, state="failed", lag=2)
        )
        cls.waiting = cls.message(cls.endpoint, ago=600, state="queued")
        # Three hours ago: 5 orders and a ping, fine.
        for _i in range(5):
            cls.message(cls.endpoint, ago=3 * 3600, lag=1)
        cls.message(cls.endpoint, ago=3 * 3600, lag=1, topic="ping")
        # A quiet endpoint, and one that took a single message.
        cls.quiet_backend = cls.make_backend("Quiet", "quiet")
        cls.quiet = cls.make_endpoint(cls.quiet_backend, "Quiet hooks")
        cls.single_backend = cls.make_backend("Single", "single")
        cls.single = cls.make_endpoint(cls.single_backend, "Single hooks")
        cls.message(cls.single, ago=120, lag=3)

    def test_webhook_endpoint_flow(self):
        flow = self.measured("webhook.endpoint", self.endpoint.id)
        self.assertEqual(flow.name, f"{self.backend.name} · Shop hooks")
        self.assertEqual((flow.direction, flow.company_id), ("in", self.env.company))
        self.assertEqual((flow.volume_1h, flow.volume_24h), (10, 16))
        self.assertEqual((flow.failed_1h, flow.failed_24h), (2, 2))
        self.assertAlmostEqual(flow.failure_rate, 0.2)
        self.assertEqual((flow.queued_count, flow.retrying_count), (1, 0))
        self.assertEqual(flow.dead_count, 2, "failed, no inbox item closed them")
        self.assertEqual(flow.backlog_count, 1)
        self.assertEqual(flow.oldest_pending_age, 600)
        self.assertAlmostEqual(flow.lag_p50, 4.0)
        self.assertAlmostEqual(flow.lag_p95, 6.7)  # percentile_cont of 1..7
        self.assertEqual(flow.last_success, self.now - timedelta(seconds=59))
        self.assertEqual(flow.sla_state, "breached")
        self.assertIn("20.0 % failed over 1 h", flow.sla_reason)
        self.assertEqual(flow.circuit_state, "closed")
        self.assertEqual(len(flow.sparkline), 24)
        # Dead items are counted every 10 minutes, the waiting ones each time.
        self.message(self.endpoint, ago=30, state="failed", lag=1)
        self.message(self.endpoint, ago=30, state="queued")
        flow._refresh_health(self.now + timedelta(minutes=1))
        self.assertEqual((flow.dead_count, flow.queued_count), (2, 2))
        flow._refresh_health(self.now + timedelta(minutes=10))
        self.assertEqual((flow.dead_count, flow.queued_count), (3, 2))

    def test_orders_in_counts_order_topics_only(self):
        flow = self.measured("storefront.orders_in", self.backend.id)
        self.assertEqual(flow.name, f"{self.backend.name} · orders in")
        self.assertEqual((flow.volume_1h, flow.volume_24h), (10, 15))
        self.assertEqual(flow.data_kind, "orders")
        self.assertEqual(flow.classification, "personal")

    def test_empty_and_single(self):
        quiet = self.measured("webhook.endpoint", self.quiet.id)
        self.assertEqual(
            (quiet.volume_1h, quiet.volume_24h, quiet.failed_24h, quiet.backlog_count),
            (0, 0, 0, 0),
        )
        self.assertEqual((quiet.lag_p95, quiet.oldest_pending_age), (0.0, 0))
        self.assertEqual(quiet.lag_display, "—")
        self.assertEqual(quiet.sla_state, "ok")
        self.assertFalse(quiet.last_success)
        self.assertEqual(quiet.sparkline, "▁" * 24)
        single = self.measured("webhook.endpoint", self.single.id)
        self.assertEqual(
            (single.volume_1h, single.lag_p50, single.lag_p95), (1, 3.0, 3.0)
        )
        self.assertEqual(single.sla_state, "ok")

    def test_paused_backend_opens_the_circuit(self):
        self.quiet_backend.state = "paused"
        flow = self.measured("webhook.endpoint", self.quiet.id)
        self.assertEqual((flow.circuit_state, flow.sla_state), ("open", "breached"))
        self.assertEqual(flow.circuit_reason, "backend paused")

    def test_sla_transitions(self):
        flow = self.flow("webhook.endpoint", self.single.id)
        flow._refresh_health(self.now)
        self.assertEqual(flow.sla_state, "ok")
        since = flow.sla_since
        flow.max_lag_seconds = 3  # the lag 3 s is now at 100 %: warning
        flow._refresh_health(self.now + timedelta(seconds=1))
        self.assertEqual(flow.sla_state, "warning")
        self.assertGreater(flow.sla_since, since)
        flow.max_lag_seconds = 2
        flow._refresh_health(self.now + timedelta(seconds=2))
        self.assertEqual(flow.sla_state, "breached")
        flow.max_lag_seconds = 300
        flow._refresh_health(self.now + timedelta(seconds=3))
        self.assertEqual(flow.sla_state, "ok")
        # An hour later the message left the SLA window: nothing to judge.
        flow._refresh_health(self.now + timedelta(hours=2))
        self.assertEqual(
            (flow.volume_1h, flow.volume_24h, flow.sla_state), (0, 1, "ok")
        )

    def test_outbox_subscription_flow(self):
        sub = self.make_subscription(self.quiet_backend, types=["order.confirmed"])
        self.delivery(sub, ago=300, lag=10)
        self.delivery(sub, ago=400, lag=30)
        self.delivery(sub, ago=500, state="failed")
        self.delivery(sub, ago=900, state="dead")
        self.delivery(sub, ago=90000, lag=5)  # yesterday: outside 24 h
        flow = self.measured("outbox.subscription", sub.id)
        self.assertEqual(flow.direction, "out")
        self.assertEqual((flow.volume_1h, flow.failed_1h), (4, 2))
        self.assertAlmostEqual(flow.lag_p50, 20.0)
        self.assertAlmostEqual(flow.lag_p95, 29.0)
        self.assertEqual(
            (flow.queued_count, flow.retrying_count, flow.dead_count), (0, 1, 1)
        )
        self.assertEqual(flow.oldest_pending_age, 500)
        self.assertEqual(flow.sla_state, "warning", "50 % failed, but only 4 items")
        sub.write({"state": "paused", "state_reason": "HTTP 503 five times"})
        flow._refresh_health(self.now)
        self.assertEqual((flow.circuit_state, flow.sla_state), ("open", "breached"))
        self.assertEqual(flow.circuit_reason, "HTTP 503 five times")
        action = flow.action_open_failed()
        failed = self.env[action["res_model"]].search(action["domain"])
        self.assertEqual(set(failed.mapped("state")), {"failed", "dead"})

    def test_click_through_and_discovery(self):
        flow = self.flow("webhook.endpoint", self.endpoint.id)
        action = flow.action_open_failed()
        self.assertEqual(
            self.env[action["res_model"]].search(action["domain"]), self.failed
        )
        action = flow.action_open_pending()
        self.assertEqual(
            self.env[action["res_model"]].search(action["domain"]), self.waiting
        )
        self.quiet.unlink()
        self.Flow._sync_flows()
        gone = self.Flow.with_context(active_test=False).search(
            [("key", "=", flows.flow_key("webhook.endpoint", self.quiet.id))]
        )
        self.assertFalse(gone.active, "a flow whose endpoint is gone is archived")

    def test_rollups_written_once(self):
        Rollup = self.env["retail.monitor.rollup"]
        Rollup._cron_rollup(self.now)
        flow = self.flow("webhook.endpoint", self.endpoint.id)
        rows = Rollup.search([("flow_id", "=", flow.id)])
        self.assertEqual(len(rows), 48, "one row per closed hour, quiet ones too")
        closed = self.now.replace(minute=0, second=0)
        in_closed_hours = self.env["retail.inbound.message"].search_count(
            [("endpoint_id", "=", self.endpoint.id), ("received_at", "<", closed)]
        )
        self.assertEqual(sum(rows.mapped("volume")), in_closed_hours)
        self.assertEqual(len(flow.baseline), 48)
        self.assertEqual(
            Rollup._cron_rollup(self.now), 0, "closed hours are not redone"
        )
        flow._refresh_health(self.now)
        busy_hour = (self.now - timedelta(hours=3)).replace(minute=0, second=0)
        index = 23 - int((closed - busy_hour).total_seconds() // 3600)
        # 6 messages then, 10 in the last 60 minutes (the tallest bar)
        self.assertEqual(flow.sparkline[index], "▅", flow.sparkline)
        self.assertEqual(flow.sparkline[-1], "█", flow.sparkline)


@tagged("retail", "post_install", "-at_install")
class TestBusinessKpis(MonitoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "KPI Customer"})
        cls.other = cls.make_backend("Other Shop", "other_shop")

    def order(
        self, correlation, confirmed_after, received_ago=1000, backend=None, **vals
    ):
        """A channel order whose webhook came ``received_ago`` s ago,
        confirmed ``confirmed_after`` s later."""
        backend = backend or self.backend
        self.message(self.endpoint, ago=received_ago, lag=1, correlation=correlation)
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "retail_backend_id": backend.id,
                "retail_correlation_id": correlation,
                **vals,
            }
        )
        confirmed = self.now - timedelta(seconds=received_ago - confirmed_after)
        self.env.cr.execute(
            "UPDATE sale_order SET state = 'sale', date_order = %s WHERE id = %s",
            [confirmed, order.id],
        )
        order.invalidate_recordset()
        return order

    def kpis(self, key):
        values = self.env["retail.monitor.kpi.value"]._refresh(self.now)
        return {v.backend_id: v for kpi, v in values if kpi.key == key}

    def test_order_latency(self):
        self.assertEqual(self.kpis("order_latency"), {}, "no order, no value")
        self.order("kpi-1", 30)
        single = self.kpis("order_latency")[self.backend.id]
        self.assertEqual((single.value, single.samples), (30.0, 1))
        self.order("kpi-2", 90)
        value = self.kpis("order_latency")[self.backend.id]
        self.assertAlmostEqual(value.value, 87.0)  # p95 of 30 and 90
        self.assertEqual(value.state, "warning", "between 60 s and 300 s")
        self.assertEqual(value.detail, "median 60.0 s over 2 orders")

    def test_webhook_failure_rate(self):
        for _i in range(3):
            self.message(self.endpoint, ago=100, lag=1)
        self.message(self.endpoint, ago=100, state="failed", lag=1)
        value = self.kpis("webhook_failure_rate")[self.backend.id]
        self.assertAlmostEqual(value.value, 0.25)
        self.assertEqual(value.state, "breached")
        self.assertEqual(value.detail, "1 failed of 4")
        self.assertNotIn(self.other.id, self.kpis("webhook_failure_rate"))

    def test_stock_update_delay(self):
        sub = self.make_subscription(
            self.backend, mode="storefront", types=["stock.level_changed"]
        )
        self.delivery(sub, ago=600, lag=10, event_type="stock.level_changed")
        self.delivery(sub, ago=600, lag=20, event_type="stock.level_changed")
        self.delivery(sub, ago=600, state="pending", event_type="stock.level_changed")
        value = self.kpis("stock_update_delay")[self.backend.id]
        self.assertAlmostEqual(value.value, 19.5)
        self.assertEqual((value.samples, value.state), (2, "ok"))
        self.assertIn("median 15.0 s", value.detail)

    def test_refund_exception_volume(self):
        refunded = self.order("kpi-r", 5, retail_payment_state="refunded")
        paid = self.order("kpi-p", 5, retail_payment_state="paid")
        Exception_ = self.env["retail.sync.exception"]
        for sale in (refunded, paid):
            Exception_._report(
                "Refund on delivered order",
                backend=self.backend,
                kind="data",
                document=sale,
            )
        value = self.kpis("refund_exception_volume")[self.backend.id]
        self.assertEqual(
            (value.value, value.detail, value.state), (1.0, "1 open", "ok")
        )

    def test_end_of_day_reconciliation(self):
        self.assertNotIn(self.backend.id, self.kpis("eod_reconciliation"))
        self.backend.write({"provider": "shopify", "storefront_export_stock": True})
        never = self.kpis("eod_reconciliation")[self.backend.id]
        self.assertEqual((never.value, never.state), (None, "breached"))
        self.backend.storefront_reconciled_at = self.now - timedelta(hours=30)
        late = self.kpis("eod_reconciliation")[self.backend.id]
        self.assertEqual((late.value, late.state), (30.0, "warning"))
        self.backend.storefront_reconciled_at = self.now - timedelta(hours=2)
        self.assertEqual(self.kpis("eod_reconciliation")[self.backend.id].state, "ok")
        self.env["retail.sync.exception"]._report(
            "Reconciliation failed",
            backend=self.backend,
            kind="connection",
            source=self.backend,
            key="reconcile:api",
        )
        failed = self.kpis("eod_reconciliation")[self.backend.id]
        self.assertEqual(
            (failed.state, failed.detail),
            ("breached", "the last reconciliation failed"),
        )
