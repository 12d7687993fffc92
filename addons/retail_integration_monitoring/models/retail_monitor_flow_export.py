import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import config

# queue_job's runner holds this advisory lock on each database it serves
# (queue_job/jobrunner/runner.py, PG_ADVISORY_LOCK_ID).
RUNNER_LOCK_ID = 2293787760715711918
# A channel with jobs due this long and none finished meanwhile is stalled.
STALL_MINUTES = 10
# A scrape serves the measure the monitoring cron (every minute) stored when
# it is at most this old, and measures the flows itself otherwise.
METRICS_MAX_AGE = 90
HEALTH_FIELDS = [
    "volume_1h",
    "volume_24h",
    "failed_1h",
    "failed_24h",
    "failure_rate",
    "queued_count",
    "retrying_count",
    "dead_count",
    "oldest_pending_age",
    "lag_p50",
    "lag_p95",
    "sla_state",
    "circuit_state",
    "last_success",
]


class RetailMonitorFlow(models.Model):
    """What outside monitors read: the metrics' rows and the health report."""

    _inherit = "retail.monitor.flow"

    @api.model
    def _metrics_rows(self, company_ids=None):
        """(flows, kpis) as lists of dicts for lib/metrics.py: each flow's
        measure as the monitoring cron stored it if it is recent enough
        (``retail_monitoring_metrics_max_age`` seconds, 90 by default), else
        measured now; counters from the closed hours' rollups; KPIs as last
        computed."""
        now = fields.Datetime.now()
        domain = [("company_id", "in", company_ids)] if company_ids else []
        flows_ = self.search(domain)
        max_age = int(
            config.get("retail_monitoring_metrics_max_age") or METRICS_MAX_AGE
        )
        stale = flows_.filtered(
            lambda f: not f.health_at or (now - f.health_at).total_seconds() > max_age
        )
        measured = stale._measure(now) if stale else {}
        for flow in flows_ - stale:
            measured[flow.id] = {name: flow[name] for name in HEALTH_FIELDS}
            measured[flow.id]["oldest_pending_age"] = (
                int((now - flow.oldest_pending_at).total_seconds())
                if flow.oldest_pending_at
                else 0
            )
        self.env.cr.execute(
            """SELECT flow_id, sum(volume), sum(failed) FROM retail_monitor_rollup
                WHERE flow_id = ANY(%s) GROUP BY flow_id""",
            [flows_.ids],
        )
        totals = {fid: (vol, failed) for fid, vol, failed in self.env.cr.fetchall()}
        rows = []
        for flow in flows_:
            vals = measured.get(flow.id)
            if vals is None:
                continue
            total = totals.get(flow.id, (0, 0))
            last = vals["last_success"]
            rows.append(
                {
                    "key": flow.key,
                    "name": flow.name,
                    "backend": flow.backend_id.code,
                    "company": flow.company_id.name,
                    "direction": flow.direction,
                    "kind": flow.data_kind,
                    "window_hours": flow.window_hours,
                    "volume_1h": vals["volume_1h"],
                    "volume_24h": vals["volume_24h"],
                    "failed_1h": vals["failed_1h"],
                    "failed_24h": vals["failed_24h"],
                    "failure_rate": vals["failure_rate"],
                    "queued": vals["queued_count"],
                    "retrying": vals["retrying_count"],
                    "dead": vals.get("dead_count", flow.dead_count),
                    "oldest_age": vals["oldest_pending_age"],
                    "lag_p50": vals["lag_p50"],
                    "lag_p95": vals["lag_p95"],
                    "sla_state": vals["sla_state"],
                    "circuit": vals["circuit_state"],
                    "last_success": last.timestamp() if last else None,
                    "items_total": int(total[0] or 0),
                    "failures_total": int(total[1] or 0),
                }
            )
        kpi_domain = [("company_id", "in", company_ids)] if company_ids else []
        kpis = [
            {
                "kpi": value.kpi_key,
                "backend": value.backend_id.code,
                "company": value.company_id.name,
                "unit": value.unit,
                "value": value.value if value.has_value else None,
                "state": value.state,
            }
            for value in self.env["retail.monitor.kpi.value"].search(kpi_domain)
        ]
        return rows, kpis

    @api.model
    def _health_report(self, live_only=False):
        """{"status": "ok"|"fail", "checks": {...}} for load balancers."""
        checks = {}
        started = time.perf_counter()
        self.env.cr.execute("SELECT 1")
        checks["database"] = {
            "ok": self.env.cr.fetchone() == (1,),
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
        if not live_only:
            checks["job_runner"] = {"ok": self._job_runner_alive()}
            stalled = self._stalled_channels()
            checks["channels"] = {"ok": not stalled, "stalled": stalled}
        ok = all(check["ok"] for check in checks.values())
        return {"status": "ok" if ok else "fail", "checks": checks}

    @api.model
    def _job_runner_alive(self):
        """Whether a queue_job runner holds its lock on this database."""
        high, low = RUNNER_LOCK_ID >> 32, RUNNER_LOCK_ID & 0xFFFFFFFF
        self.env.cr.execute(
            """SELECT EXISTS (
                   SELECT 1 FROM pg_locks l
                     JOIN pg_database d ON d.oid = l.database
                    WHERE l.locktype = 'advisory' AND l.granted
                      AND d.datname = current_database()
                      AND l.classid::bigint = %s AND l.objid::bigint = %s)""",
            [high, low],
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _stalled_channels(self, now=None):
        """The job channels with jobs due for STALL_MINUTES and no job
        started or finished meanwhile."""
        now = now or fields.Datetime.now()
        since = now - timedelta(minutes=STALL_MINUTES)
        self.env.cr.execute(
            """SELECT q.channel FROM queue_job q
                WHERE q.state IN ('pending', 'enqueued')
                  AND (q.eta IS NULL OR q.eta <= %(since)s)
                  AND q.date_created <= %(since)s
                  AND NOT EXISTS (
                      SELECT 1 FROM queue_job r
                       WHERE r.channel = q.channel
                         AND (r.date_done >= %(since)s OR r.date_started >= %(since)s))
                GROUP BY q.channel ORDER BY q.channel""",
            {"since": since},
        )
        return [row[0] for row in self.env.cr.fetchall()]
