import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models

from odoo.addons.retail_integration_outbox.lib import payloads

from ..lib import alerts

_logger = logging.getLogger(__name__)

ALERT_EVENT = "integration.alert"
# Notifications (activity + channel message) per hour, all flows together;
# beyond it, they are grouped into digests.
MAX_PER_HOUR = 20
KINDS = [
    ("breach", "SLA breached"),
    ("silence", "Silent"),
    ("circuit", "Circuit open"),
]


class RetailMonitorIncident(models.Model):
    """One stretch of time a flow was in trouble: opened once, told once,
    resolved (and told) when the trouble is gone."""

    _name = "retail.monitor.incident"
    _description = "Integration Incident"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "state desc, opened_at desc, id desc"

    flow_id = fields.Many2one(
        "retail.monitor.flow", required=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    backend_id = fields.Many2one("retail.backend", readonly=True, ondelete="cascade")
    kind = fields.Selection(KINDS, required=True, readonly=True)
    state = fields.Selection(
        [("open", "Open"), ("resolved", "Resolved")],
        default="open",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
    )
    reason = fields.Text(readonly=True)
    opened_at = fields.Datetime(readonly=True, required=True)
    resolved_at = fields.Datetime(readonly=True)
    reopened_count = fields.Integer(
        readonly=True, help="Times it came back within 30 min of recovering."
    )
    notified = fields.Boolean(
        readonly=True, help="Told one by one (else in a grouped digest)."
    )
    notified_at = fields.Datetime(readonly=True)

    @api.depends("flow_id", "kind")
    def _compute_display_name(self):
        labels = dict(KINDS)
        for incident in self:
            incident.display_name = (
                f"{incident.flow_id.name}: {labels.get(incident.kind, incident.kind)}"
            )

    # Evaluation ------------------------------------------------------------

    @api.model
    def _conditions(self, flows_):
        """{(flow key, kind): reason} of the troubles true now."""
        conditions = {}
        silent = self.env["retail.monitor.hint"].search(
            [
                ("state", "=", "open"),
                ("kind", "=", "silence"),
                ("flow_id", "in", flows_.ids),
            ]
        )
        for hint in silent:
            conditions[(hint.flow_id.key, "silence")] = hint.message
        for flow in flows_:
            if flow.circuit_state in ("open", "stopped"):
                conditions[(flow.key, "circuit")] = (
                    flow.circuit_reason or flow.sla_reason
                )
            elif flow.sla_state == "breached":
                conditions[(flow.key, "breach")] = flow.sla_reason
        return conditions

    @api.model
    def _evaluate(self, flows_, now=None):
        """Open, reopen and resolve incidents after a measure of ``flows_``
        (every active flow), telling people within the rate limit."""
        now = now or fields.Datetime.now()
        # sudo: incidents of every company, kept by the cron
        self = self.sudo()
        conditions = self._conditions(flows_)
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT DISTINCT ON (i.flow_id, i.kind)
                      i.id, f.key, i.kind, i.state = 'open', i.resolved_at
                 FROM retail_monitor_incident i
                 JOIN retail_monitor_flow f ON f.id = i.flow_id
                ORDER BY i.flow_id, i.kind, i.id DESC"""
        )
        latest = self.env.cr.fetchall()
        sent = self.search_count(
            [("notified", "=", True), ("notified_at", ">=", now - timedelta(hours=1))]
        )
        plan = alerts.plan(
            conditions,
            latest,
            now,
            max_notifications=max(
                0, min(alerts.MAX_NOTIFICATIONS, MAX_PER_HOUR - sent)
            ),
        )
        by_key = {flow.key: flow for flow in flows_}
        opened = {}
        for key, kind, reason in plan.open:
            flow = by_key[key]
            opened[(key, kind)] = self.create(
                {
                    "flow_id": flow.id,
                    "company_id": flow.company_id.id,
                    "backend_id": flow.backend_id.id,
                    "kind": kind,
                    "reason": reason,
                    "opened_at": now,
                }
            )
        for incident in self.browse(plan.reopen):
            incident.write(
                {
                    "state": "open",
                    "resolved_at": False,
                    "reopened_count": incident.reopened_count + 1,
                    "reason": conditions.get((incident.flow_id.key, incident.kind)),
                }
            )
        resolved = self.browse(plan.resolve)
        resolved.write({"state": "resolved", "resolved_at": now})

        def incident_of(ref):
            return opened[ref] if isinstance(ref, tuple) else self.browse(ref)

        for change, ref in plan.notify:
            incident = incident_of(ref)
            incident._notify(change, now)
        if plan.digest:
            self._notify_digest([(c, incident_of(r)) for c, r in plan.digest])
        for incident in (*opened.values(), *resolved):
            incident._capture_alert()
        return plan

    # Telling ---------------------------------------------------------------

    def _notify(self, change, now):
        """An activity for the owner and a channel message; on recovery the
        activity is done and the channel told."""
        self.ensure_one()
        flow = self.flow_id
        if change == "opened":
            body = _(
                "%(flow)s: %(kind)s. %(reason)s",
                flow=flow.name,
                kind=dict(KINDS)[self.kind],
                reason=self.reason or "",
            )
            if flow.owner_id:
                self.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=_("Integration incident: %(name)s", name=self.display_name),
                    note=body,
                    user_id=flow.owner_id.id,
                )
        else:
            body = _(
                "%(flow)s recovered: %(kind)s is over (it lasted %(minutes)s min).",
                flow=flow.name,
                kind=dict(KINDS)[self.kind],
                minutes=int((now - self.opened_at).total_seconds() // 60),
            )
            self.activity_ids.action_feedback(feedback=_("Recovered."))
        self.message_post(body=body)
        if flow.alert_channel_id:
            flow.alert_channel_id.message_post(
                body=body, message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        self.write({"notified": True, "notified_at": now})

    @api.model
    def _notify_digest(self, items):
        """The notifications beyond the rate limit, in one message per channel."""
        by_channel = {}
        for change, incident in items:
            channel = incident.flow_id.alert_channel_id
            if channel:
                by_channel.setdefault(channel, []).append((change, incident))
        labels = {"opened": _("opened"), "resolved": _("recovered")}
        for channel, entries in by_channel.items():
            lines = Markup("").join(
                Markup("<li>%s: %s</li>") % (labels[change], incident.display_name)
                for change, incident in entries
            )
            channel.message_post(
                body=Markup("%s<ul>%s</ul>")
                % (
                    _(
                        "%(count)s more incident changes (grouped to avoid a storm):",
                        count=len(entries),
                    ),
                    lines,
                ),
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )

    def _capture_alert(self):
        """An ``integration.alert`` outbox event, for a pager or a chat tool
        subscribed to it (written when the transaction commits)."""
        self.env["retail.outbox.event"]._capture(ALERT_EVENT, self)

    def _alert_data(self):
        self.ensure_one()
        flow = self.flow_id

        def stamp(value):
            return fields.Datetime.to_string(value) if value else None

        return {
            "incident_id": self.id,
            "status": "firing" if self.state == "open" else "resolved",
            "kind": self.kind,
            "flow": {
                "key": flow.key,
                "name": flow.name,
                "direction": flow.direction,
                "data_kind": flow.data_kind or None,
                "backend": flow.backend_id.code or None,
                "owner": flow.owner_id.login or None,
            },
            "reason": self.reason or "",
            "opened_at": stamp(self.opened_at),
            "resolved_at": stamp(self.resolved_at),
            "sla_state": flow.sla_state,
            "measures": {
                "volume_1h": flow.volume_1h,
                "failure_rate": flow.failure_rate,
                "backlog": flow.backlog_count,
                "dead": flow.dead_count,
                "oldest_pending_seconds": flow.oldest_pending_age,
                "lag_p95_seconds": flow.lag_p95,
                "circuit": flow.circuit_state,
            },
        }

    def action_open_flow(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "retail.monitor.flow",
            "res_id": self.flow_id.id,
            "views": [(False, "form")],
        }


@payloads.register(ALERT_EVENT)
def integration_alert(incident, scope):
    return incident._alert_data()
