from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models

from ..lib import baseline, flows

HOUR = timedelta(hours=1)
# How far back a first run (or a run after a stop) fills the hours.
BACKFILL_HOURS = 48


class RetailMonitorRollup(models.Model):
    """One flow's numbers for one closed hour, written once by the hourly
    cron: the dashboard's sparklines, the baselines, the trend views and the
    metrics' counters read these, never the raw records, which keep their
    own retention."""

    _name = "retail.monitor.rollup"
    _description = "Integration Flow Hourly Rollup"
    _order = "hour desc, flow_id"
    _rec_name = "hour"

    flow_id = fields.Many2one(
        "retail.monitor.flow", required=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    backend_id = fields.Many2one("retail.backend", readonly=True, ondelete="cascade")
    direction = fields.Selection(related="flow_id.direction", store=True)
    data_kind = fields.Char(related="flow_id.data_kind", store=True)
    hour = fields.Datetime(required=True, readonly=True)
    volume = fields.Integer(readonly=True, aggregator="sum")
    failed = fields.Integer(readonly=True, aggregator="sum")
    lag_p50 = fields.Float("Lag p50 (s)", readonly=True, aggregator="avg")
    lag_p95 = fields.Float("Lag p95 (s)", readonly=True, aggregator="max")
    failure_rate = fields.Float(readonly=True, aggregator="avg", digits=(3, 4))

    _sql_constraints = [
        ("flow_hour_uniq", "unique(flow_id, hour)", "One rollup per flow and hour.")
    ]

    def init(self):
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS retail_monitor_rollup_hour
               ON retail_monitor_rollup (hour)"""
        )

    @api.model
    def _cron_rollup(self, now=None):
        """Hourly: roll up every closed hour not yet rolled up (up to
        BACKFILL_HOURS back), for every active flow, and feed each hour's
        volume to the flow's baseline. Written once: a closed hour's row
        does not change, so the counters built on them only grow."""
        now = now or fields.Datetime.now()
        # sudo: rollups of every company, kept by the cron
        Flow = self.env["retail.monitor.flow"].sudo()
        Flow._sync_flows()
        all_flows = Flow.search([])
        last_hour = now.replace(minute=0, second=0, microsecond=0)
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT flow_id, max(hour) FROM retail_monitor_rollup GROUP BY flow_id"
        )
        done_until = dict(self.env.cr.fetchall())
        todo = defaultdict(list)  # hour -> flows
        for flow in all_flows:
            start = done_until.get(flow.id)
            start = start + HOUR if start else last_hour - BACKFILL_HOURS * HOUR
            start = max(start, last_hour - BACKFILL_HOURS * HOUR)
            hour = start
            while hour < last_hour:
                todo[hour].append(flow)
                hour += HOUR
        sources = Flow._sources()
        rows = []
        for hour in sorted(todo):
            by_source = defaultdict(list)
            for flow in todo[hour]:
                by_source[flow.source].append(flow)
            for source_key, group in by_source.items():
                source_cls = sources.get(source_key)
                if source_cls is None:
                    continue
                stats = source_cls().window_stats(
                    self.env, [f.ref for f in group], hour, hour + HOUR
                )
                for flow in group:
                    stat = stats.get(flow.ref) or flows.WindowStats()
                    rows.append((flow, hour, stat))
        self._insert(rows)
        return len(rows)

    def _insert(self, rows):
        baselines = {}
        for flow, hour, stat in rows:
            self.env.cr.execute(
                """INSERT INTO retail_monitor_rollup
                       (flow_id, company_id, backend_id, direction, data_kind, hour,
                        volume, failed, lag_p50, lag_p95, failure_rate,
                        create_uid, create_date, write_uid, write_date)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                           %s, now() at time zone 'utc', %s, now() at time zone 'utc')
                   ON CONFLICT (flow_id, hour) DO NOTHING RETURNING id""",
                [
                    flow.id,
                    flow.company_id.id,
                    flow.backend_id.id or None,
                    flow.direction,
                    flow.data_kind,
                    hour,
                    stat.volume,
                    stat.failed,
                    stat.lag_p50 or 0.0,
                    stat.lag_p95 or 0.0,
                    stat.failure_rate,
                    self.env.uid,
                    self.env.uid,
                ],
            )
            if self.env.cr.fetchone():
                current = baselines.get(flow, flow.baseline)
                baselines[flow] = baseline.update(
                    current, baseline.slot_of(hour), stat.volume
                )
        for flow, values in baselines.items():
            flow.with_context(tracking_disable=True).baseline = values
