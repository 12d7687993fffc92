import logging
from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib import baseline, flows, sla

_logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
DAY = timedelta(hours=24)
# The dead items pile up until a person acts: counted this often only.
DEAD_EVERY = timedelta(minutes=10)
SLA_STATES = [("ok", "OK"), ("warning", "Warning"), ("breached", "Breached")]


class RetailMonitorFlow(models.Model):
    """One direction of one backend and one kind of data, found by a
    registered source (lib/flows.py), with its owner, its SLA and its last
    measured health."""

    _name = "retail.monitor.flow"
    _description = "Integration Flow"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sla_rank desc, company_id, backend_id, name"

    name = fields.Char(required=True, tracking=True)
    key = fields.Char(required=True, readonly=True, index=True)
    source = fields.Char(required=True, readonly=True)
    ref = fields.Char(readonly=True)
    active = fields.Boolean(default=True)
    backend_id = fields.Many2one(
        "retail.backend", readonly=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    res_model = fields.Char("Configured By", readonly=True)
    res_id = fields.Many2oneReference(model_field="res_model", readonly=True)
    direction = fields.Selection(
        [("in", "In"), ("out", "Out")], required=True, readonly=True
    )
    data_kind = fields.Char(readonly=True)

    # What it is, and its SLA -------------------------------------------------
    owner_id = fields.Many2one(
        "res.users",
        string="Owner",
        tracking=True,
        help="Gets an activity when the flow breaches its SLA, goes silent or "
        "its circuit opens.",
    )
    purpose = fields.Text()
    classification = fields.Selection(
        [
            ("public", "Public"),
            ("internal", "Internal"),
            ("confidential", "Confidential"),
            ("personal", "Personal data"),
        ],
        "Data Classification",
        default="internal",
        required=True,
    )
    sync_mode = fields.Selection(
        [("realtime", "Real-time"), ("batch", "Batch")],
        default="realtime",
        required=True,
    )
    batch_window_minutes = fields.Integer(
        "Batch Window (min)", help="For a batch flow: how often it runs."
    )
    max_lag_seconds = fields.Integer(
        "Maximum Lag (s)",
        default=300,
        tracking=True,
        help="The lag p95 over the window and the age of the oldest waiting item "
        "must stay below it.",
    )
    max_failure_rate = fields.Float(
        "Maximum Failure Rate",
        default=0.05,
        digits=(3, 4),
        tracking=True,
        help="Share of the window's items that may fail (0.05: 5 %).",
    )
    window_hours = fields.Integer(
        "SLA Window (h)", default=1, required=True, tracking=True
    )
    alert_channel_id = fields.Many2one(
        "discuss.channel",
        "Alert Channel",
        default=lambda self: self.env.ref(
            "retail_integration_monitoring.channel_integration_alerts",
            raise_if_not_found=False,
        ),
        help="The Discuss channel told of this flow's incidents.",
    )
    anomaly_k = fields.Float(
        "Hint Threshold",
        default=baseline.DEFAULT_K,
        help="Standard deviations from the usual volume before a hint fires; "
        "feedback on hints moves it.",
    )
    baseline = fields.Json(readonly=True, copy=False)

    # Health (measured by _refresh_health) --------------------------------------
    health_at = fields.Datetime("Measured At", readonly=True)
    volume_1h = fields.Integer("Volume 1 h", readonly=True)
    volume_24h = fields.Integer("Volume 24 h", readonly=True)
    failed_1h = fields.Integer("Failed 1 h", readonly=True)
    failed_24h = fields.Integer("Failed 24 h", readonly=True)
    window_volume = fields.Integer(readonly=True)
    window_failed = fields.Integer(readonly=True)
    failure_rate = fields.Float(readonly=True, digits=(3, 4))
    queued_count = fields.Integer("Queued", readonly=True)
    retrying_count = fields.Integer("Retrying", readonly=True)
    dead_count = fields.Integer("Dead", readonly=True)
    dead_counted_at = fields.Datetime(readonly=True)
    backlog_count = fields.Integer("Backlog", readonly=True)
    oldest_pending_at = fields.Datetime("Oldest Waiting Since", readonly=True)
    oldest_pending_age = fields.Integer("Oldest Waiting (s)", readonly=True)
    lag_p50 = fields.Float("Lag p50 (s)", readonly=True)
    lag_p95 = fields.Float("Lag p95 (s)", readonly=True)
    circuit_state = fields.Selection(
        [("closed", "Closed"), ("open", "Open"), ("stopped", "Stopped")],
        default="closed",
        readonly=True,
    )
    circuit_reason = fields.Char(readonly=True)
    last_success = fields.Datetime(readonly=True)
    sla_state = fields.Selection(SLA_STATES, "SLA", default="ok", readonly=True)
    sla_rank = fields.Integer(readonly=True)
    sla_reason = fields.Text("Why", readonly=True)
    sla_since = fields.Datetime("In This State Since", readonly=True)
    sparkline = fields.Char("Last 24 h", readonly=True)
    color = fields.Integer(compute="_compute_color")
    lag_display = fields.Char("Lag", compute="_compute_display")
    oldest_display = fields.Char("Oldest", compute="_compute_display")
    failure_display = fields.Char("Failed Share", compute="_compute_display")
    sync_display = fields.Char("Sync", compute="_compute_display")
    incident_ids = fields.One2many("retail.monitor.incident", "flow_id")
    open_incident_count = fields.Integer(compute="_compute_open_incident_count")

    _sql_constraints = [("key_uniq", "unique(key)", "A flow is registered once.")]

    @api.depends("lag_p50", "lag_p95", "oldest_pending_age", "failure_rate")
    def _compute_display(self):
        for flow in self:
            p50, p95 = (
                sla.human_duration(flow.lag_p50),
                sla.human_duration(flow.lag_p95),
            )
            flow.lag_display = f"{p50} / {p95}" if flow.lag_p95 else "—"
            flow.oldest_display = (
                sla.human_duration(flow.oldest_pending_age)
                if flow.oldest_pending_at
                else "—"
            )
            flow.failure_display = f"{flow.failure_rate * 100:.1f} %"
            flow.sync_display = (
                _("batch, every %(minutes)s min", minutes=flow.batch_window_minutes)
                if flow.sync_mode == "batch"
                else _("real-time")
            )

    @api.depends("sla_state")
    def _compute_color(self):
        colors = {"ok": 10, "warning": 2, "breached": 1}
        for flow in self:
            flow.color = colors.get(flow.sla_state, 0)

    def _compute_open_incident_count(self):
        groups = self.env["retail.monitor.incident"]._read_group(
            [("flow_id", "in", self.ids), ("state", "=", "open")],
            ["flow_id"],
            ["__count"],
        )
        counts = {flow.id: count for flow, count in groups}
        for flow in self:
            flow.open_incident_count = counts.get(flow.id, 0)

    @api.model
    def _sources(self):
        """{key: FlowSource class} of the sources of the modules installed here."""
        return flows.installed(flows.SOURCES, self.env.registry._init_modules)

    def _source(self):
        self.ensure_one()
        cls = self._sources().get(self.source)
        if cls is None:
            raise UserError(
                _("No module registers the flows of %(source)s.", source=self.source)
            )
        return cls()

    # Discovery -----------------------------------------------------------------

    @api.model
    def _sync_flows(self):
        """Create a flow record for every flow the registered sources find,
        with the source's defaults; archive those no longer found. Owners,
        SLAs and names people changed are kept."""
        # sudo: flows of every company, kept by the cron
        Flow = self.sudo().with_context(active_test=False, tracking_disable=True)
        existing = {f.key: f for f in Flow.search([])}
        seen = set()
        for source_key, source_cls in self._sources().items():
            source = source_cls()
            for found in source.discover(self.env):
                key = flows.flow_key(source_key, found.ref)
                seen.add(key)
                flow = existing.get(key)
                vals = {
                    "backend_id": found.backend_id or False,
                    "company_id": found.company_id,
                    "res_model": found.res_model or False,
                    "res_id": found.res_id or False,
                }
                if flow:
                    current = {
                        "backend_id": flow.backend_id.id or False,
                        "company_id": flow.company_id.id,
                        "res_model": flow.res_model or False,
                        "res_id": flow.res_id or False,
                    }
                    if not flow.active:
                        vals["active"] = True
                    if vals != current:
                        flow.write(vals)
                    continue
                Flow.create(
                    {
                        **vals,
                        "key": key,
                        "source": source_key,
                        "ref": found.ref,
                        "name": found.name,
                        "direction": source.direction,
                        "data_kind": source.data_kind,
                        "purpose": source.purpose,
                        "classification": source.classification,
                        "sync_mode": source.sync_mode,
                        "batch_window_minutes": source.batch_window_minutes,
                        "max_lag_seconds": source.max_lag_seconds,
                        "max_failure_rate": source.max_failure_rate,
                        "window_hours": source.window_hours,
                    }
                )
        gone = [f.id for key, f in existing.items() if key not in seen and f.active]
        if gone:
            Flow.browse(gone).write({"active": False})
        return len(seen)

    # Health --------------------------------------------------------------------

    def _measure(self, now=None):
        """{flow id: health values} of these flows now, by a few aggregate
        statements per source (not per flow). Writes nothing.

        The last hour is measured on the records. A longer window (24 h, an
        SLA window of several hours) is the rollups of its closed hours plus
        the hour under way, measured on the records: the cost follows one
        hour, not the window. A source with a flow whose last closed hour is
        not rolled up yet (a new install, a stopped cron) is measured on the
        records over the whole window instead."""
        now = now or fields.Datetime.now()
        hour_start = now.replace(minute=0, second=0, microsecond=0)
        result = {}
        sources = self._sources()
        by_source = defaultdict(lambda: self.browse())
        for flow in self:
            if flow.source in sources:
                by_source[flow.source] |= flow
        longer = sorted({24, *self.mapped("window_hours")} - {1})
        rolled = {
            hours: self._rolled_up(hour_start - (hours - 1) * HOUR, hour_start)
            for hours in longer
        }
        latest = self._latest_rollups()
        for source_key, group in by_source.items():
            source = sources[source_key]()
            refs = group.mapped("ref")
            stats = {1: source.window_stats(self.env, refs, now - HOUR, now)}
            if all(latest.get(f.id) == hour_start - HOUR for f in group):
                current = source.window_stats(self.env, refs, hour_start, now)
                for hours in longer:
                    stats[hours] = {
                        f.ref: rolled[hours].get(f.id, flows.WindowStats())
                        + current.get(f.ref, flows.WindowStats())
                        for f in group
                    }
            else:
                for hours in longer:
                    stats[hours] = source.window_stats(
                        self.env, refs, now - hours * HOUR, now
                    )
            if any(
                not f.dead_counted_at or now - f.dead_counted_at >= DEAD_EVERY
                for f in group
            ):
                states = source.state_stats(self.env, refs, now)
                nothing = flows.StateStats()
            else:
                states = source.waiting_stats(self.env, refs, now)
                nothing = flows.StateStats(dead=None)
            for flow in group:
                result[flow.id] = flow._health_values(
                    now,
                    {
                        h: s.get(flow.ref) or flows.WindowStats()
                        for h, s in stats.items()
                    },
                    states.get(flow.ref) or nothing,
                )
        return result

    def _rolled_up(self, start, end):
        """{flow id: WindowStats} of these flows' rollups in [start, end)."""
        if start >= end:
            return {}
        self.env.cr.execute(
            """SELECT flow_id, sum(volume), sum(failed), max(lag_p50), max(lag_p95)
                 FROM retail_monitor_rollup
                WHERE flow_id = ANY(%s) AND hour >= %s AND hour < %s
                GROUP BY flow_id""",
            [self.ids, start, end],
        )
        return {
            fid: flows.WindowStats(int(vol), int(failed), p50 or None, p95 or None)
            for fid, vol, failed, p50, p95 in self.env.cr.fetchall()
        }

    def _latest_rollups(self):
        """{flow id: the last hour rolled up}."""
        self.env.cr.execute(
            """SELECT flow_id, max(hour) FROM retail_monitor_rollup
                WHERE flow_id = ANY(%s) GROUP BY flow_id""",
            [self.ids],
        )
        return dict(self.env.cr.fetchall())

    def _health_values(self, now, windows, state):
        self.ensure_one()
        window = windows[self.window_hours]
        counted = state.dead is not None
        dead = state.dead if counted else self.dead_count
        oldest_age = (
            (now - state.oldest_pending_at).total_seconds()
            if state.oldest_pending_at
            else None
        )
        verdict = sla.evaluate(
            sla.Sla(self.max_lag_seconds, self.max_failure_rate, self.window_hours),
            sla.Measure(
                window.volume,
                window.failed,
                window.lag_p95,
                oldest_age,
                dead,
                state.circuit,
            ),
        )
        successes = [w.last_success for w in windows.values() if w.last_success] + (
            [self.last_success] if self.last_success else []
        )
        counts = {"dead_count": dead, "dead_counted_at": now} if counted else {}
        return {
            **counts,
            "health_at": now,
            "volume_1h": windows[1].volume,
            "volume_24h": windows[24].volume,
            "failed_1h": windows[1].failed,
            "failed_24h": windows[24].failed,
            "window_volume": window.volume,
            "window_failed": window.failed,
            "failure_rate": window.failure_rate,
            "queued_count": state.queued,
            "retrying_count": state.retrying,
            "backlog_count": state.queued + state.retrying,
            "oldest_pending_at": state.oldest_pending_at,
            "oldest_pending_age": int(oldest_age or 0),
            "lag_p50": window.lag_p50 or 0.0,
            "lag_p95": window.lag_p95 or 0.0,
            "circuit_state": state.circuit,
            "circuit_reason": state.circuit_reason,
            "last_success": max(successes) if successes else False,
            "sla_state": verdict.state,
            "sla_rank": sla.ORDER[verdict.state],
            "sla_reason": self._word_reasons(verdict.reasons),
        }

    def _word_reasons(self, reasons):
        words = []
        for code, values in reasons:
            if code == "circuit":
                words.append(_("The circuit is %(state)s.", state=values["circuit"]))
            elif code == "failure_rate":
                words.append(
                    _(
                        "%(rate).1f %% failed over %(hours)s h "
                        "(maximum %(limit).1f %%).",
                        rate=values["rate"] * 100,
                        hours=self.window_hours,
                        limit=values["limit"] * 100,
                    )
                )
            elif code == "lag":
                words.append(
                    _(
                        "Lag %(lag)s (maximum %(limit)s).",
                        lag=sla.human_duration(values["lag"]),
                        limit=sla.human_duration(values["limit"]),
                    )
                )
            elif code == "dead":
                words.append(
                    _("%(count)s items wait for a person.", count=values["count"])
                )
        return "\n".join(words)

    def _refresh_health(self, now=None):
        """Measure these flows (all active ones if empty) and store it, with
        their sparklines and SLA states; return the flows."""
        now = now or fields.Datetime.now()
        # sudo: the measured health is written for every company, by the cron or
        # a user's Refresh; people read it through the record rules
        flows_ = (self or self.search([])).sudo().with_context(tracking_disable=True)
        measured = flows_._measure(now)
        lines = flows_._sparklines(
            now, {fid: vals["volume_1h"] for fid, vals in measured.items()}
        )
        for flow in flows_:
            vals = measured.get(flow.id)
            if vals is None:
                continue
            vals["sparkline"] = lines.get(flow.id, sla.sparkline([0] * 24))
            if vals["sla_state"] != flow.sla_state or not flow.sla_since:
                vals["sla_since"] = now
            flow.write(vals)
        return flows_

    def _sparklines(self, now, current):
        """{flow id: sparkline} of the volumes of the last 24 hours: 23 rolled
        up hours and the last 60 minutes (``current``: {flow id: volume})."""
        start = now.replace(minute=0, second=0, microsecond=0) - 23 * HOUR
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT flow_id, hour, volume FROM retail_monitor_rollup
                WHERE flow_id = ANY(%s) AND hour >= %s""",
            [self.ids, start],
        )
        volumes = defaultdict(dict)
        for flow_id, hour, volume in self.env.cr.fetchall():
            volumes[flow_id][hour] = volume
        hours = [start + i * HOUR for i in range(24)]
        return {
            flow.id: sla.sparkline(
                [volumes[flow.id].get(h, 0) for h in hours[:-1]]
                + [current.get(flow.id, 0)]
            )
            for flow in self
        }

    @api.model
    def _cron_monitor(self):
        """Every few minutes: find the flows, measure them, compute the KPIs,
        look for anomalies and raise or recover incidents."""
        now = fields.Datetime.now()
        self._sync_flows()
        flows_ = self._refresh_health(now)
        self.env["retail.monitor.kpi.value"]._refresh(now)
        self.env["retail.monitor.hint"]._detect(flows_, now)
        self.env["retail.monitor.incident"]._evaluate(flows_, now)

    # Actions -------------------------------------------------------------------

    def action_refresh(self):
        self.env["retail.monitor.flow"]._sync_flows()
        self._refresh_health()
        return True

    def action_refresh_all(self):
        self.env["retail.monitor.flow"]._sync_flows()
        self.search([])._refresh_health()
        return {"type": "ir.actions.client", "tag": "soft_reload"}

    def _records_action(self, what):
        self.ensure_one()
        action = self._source().records_action(self.env, self.ref, what)
        if not action:
            raise UserError(_("This flow has no records to show."))
        action["name"] = f"{self.name}: {action['name']}"
        return action

    def action_open_records(self):
        return self._records_action("all")

    def action_open_failed(self):
        return self._records_action("failed")

    def action_open_pending(self):
        return self._records_action("pending")

    def action_open_rollups(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retail_integration_monitoring.retail_monitor_rollup_action"
        )
        action["domain"] = [("flow_id", "=", self.id)]
        return action

    def action_open_incidents(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retail_integration_monitoring.retail_monitor_incident_action"
        )
        action["domain"] = [("flow_id", "=", self.id)]
        action["context"] = {}
        return action
