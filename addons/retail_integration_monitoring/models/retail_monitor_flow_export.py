import time
from datetime import timedelta

from odoo import api, fields, models

# queue_job's runner holds this advisory lock on each database it serves
# (queue_job/jobrunner/runner.py, PG_ADVISORY_LOCK_ID).
RUNNER_LOCK_ID = 2293787760715711918
# A channel with jobs due this long and none finished meanwhile is stalled.
STALL_MINUTES = 10


def _age(now, moment):
    return int((now - moment).total_seconds()) if moment else 0


class RetailMonitorFlow(models.Model):
    """What outside monitors read: the metrics' rows and the health report."""

    _inherit = "retail.monitor.flow"

    @api.model
    def _metrics_rows(self, company_ids=None):
        """(flows, kpis) as lists of dicts for lib/metrics.py: each flow's
        measure as the monitoring cron (every minute) stored it, with its age
        (a scrape measures nothing: its cost does not grow with the tables,
        and an outside monitor sees a stopped cron by the age); counters from
        the closed hours' rollups; KPIs as last computed. A flow not measured
        yet is left out until the cron's next run."""
        now = fields.Datetime.now()
        domain = [("health_at", "!=", False)]
        if company_ids:
            domain.append(("company_id", "in", company_ids))
        flows_ = self.search(domain)
        self.env.cr.execute(
            """SELECT flow_id, sum(volume), sum(failed) FROM retail_monitor_rollup
                WHERE flow_id = ANY(%s) GROUP BY flow_id""",
            [flows_.ids],
        )
        totals = {fid: (vol, failed) for fid, vol, failed in self.env.cr.fetchall()}
        rows = []
        for flow in flows_:
            total = totals.get(flow.id, (0, 0))
            rows.append(
                {
                    "key": flow.key,
                    "name": flow.name,
                    "backend": flow.backend_id.code,
                    "company": flow.company_id.name,
                    "direction": flow.direction,
                    "kind": flow.data_kind,
                    "window_hours": flow.window_hours,
                    "volume_1h": flow.volume_1h,
                    "volume_24h": flow.volume_24h,
                    "failed_1h": flow.failed_1h,
                    "failed_24h": flow.failed_24h,
                    "failure_rate": flow.failure_rate,
                    "queued": flow.queued_count,
                    "retrying": flow.retrying_count,
                    "dead": flow.dead_count,
                    "oldest_age": _age(now, flow.oldest_pending_at),
                    "lag_p50": flow.lag_p50,
                    "lag_p95": flow.lag_p95,
                    "sla_state": flow.sla_state,
                    "circuit": flow.circuit_state,
                    "last_success": (
                        flow.last_success.timestamp() if flow.last_success else None
                    ),
                    "measure_age": _age(now, flow.health_at),
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
