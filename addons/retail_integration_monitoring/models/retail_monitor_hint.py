from odoo import _, api, fields, models

from ..lib import baseline


class RetailMonitorHint(models.Model):
    """A flow's volume far from its usual one at this hour of the week.
    Decision support only: a hint acts on nothing; people say whether it
    was useful, which tunes the flow's threshold."""

    _name = "retail.monitor.hint"
    _description = "Integration Anomaly Hint"
    _order = "state desc, last_seen desc, id desc"
    _rec_name = "message"

    flow_id = fields.Many2one(
        "retail.monitor.flow", required=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    backend_id = fields.Many2one("retail.backend", readonly=True, ondelete="cascade")
    kind = fields.Selection(
        [("silence", "Silence"), ("spike", "Spike")], required=True, readonly=True
    )
    state = fields.Selection(
        [("open", "Open"), ("closed", "Back to Normal")],
        default="open",
        required=True,
        readonly=True,
    )
    message = fields.Char(readonly=True)
    why = fields.Text(readonly=True)
    observed = fields.Float(readonly=True)
    expected = fields.Float(readonly=True)
    spread = fields.Float(readonly=True)
    threshold = fields.Float(readonly=True)
    first_seen = fields.Datetime(readonly=True)
    last_seen = fields.Datetime(readonly=True)
    feedback = fields.Selection(
        [("useful", "Useful"), ("noise", "Noise")], readonly=True
    )

    @api.model
    def _detect(self, flows_, now=None):
        """Check each flow's last 60 minutes against its baseline: open a
        hint (or keep it) when far from it, close it when back to normal."""
        now = now or fields.Datetime.now()
        # sudo: hints of every company, kept by the cron
        Hint = self.sudo()
        slot = baseline.slot_of(now)
        open_hints = {
            (h.flow_id.id, h.kind): h
            for h in Hint.search(
                [("state", "=", "open"), ("flow_id", "in", flows_.ids)]
            )
        }
        found = []
        for flow in flows_:
            hint = baseline.check(flow.baseline, slot, flow.volume_1h, k=flow.anomaly_k)
            if not hint:
                continue
            vals = {
                "observed": hint.observed,
                "expected": hint.mean,
                "spread": hint.std,
                "threshold": hint.k,
                "why": hint.why,
                "message": self._word(flow, hint),
                "last_seen": now,
            }
            current = open_hints.pop((flow.id, hint.kind), None)
            if current:
                current.write(vals)
                found.append(current)
                continue
            found.append(
                Hint.create(
                    {
                        **vals,
                        "flow_id": flow.id,
                        "company_id": flow.company_id.id,
                        "backend_id": flow.backend_id.id,
                        "kind": hint.kind,
                        "first_seen": now,
                    }
                )
            )
        for stale in open_hints.values():
            stale.state = "closed"
        return found

    @api.model
    def _word(self, flow, hint):
        usual = _(
            "at this hour %(mean).0f ± %(std).0f are usual",
            mean=hint.mean,
            std=hint.std,
        )
        if hint.kind == "silence" and not hint.observed:
            return _(
                "No %(kind)s on %(flow)s in the last 60 min; %(usual)s.",
                kind=flow.data_kind or _("items"),
                flow=flow.name,
                usual=usual,
            )
        if hint.kind == "silence":
            return _(
                "Only %(count)d %(kind)s on %(flow)s in the last 60 min; %(usual)s.",
                count=hint.observed,
                kind=flow.data_kind or _("items"),
                flow=flow.name,
                usual=usual,
            )
        return _(
            "%(count)d %(kind)s on %(flow)s in the last 60 min; %(usual)s.",
            count=hint.observed,
            kind=flow.data_kind or _("items"),
            flow=flow.name,
            usual=usual,
        )

    def _give_feedback(self, feedback):
        for hint in self:
            flow = hint.flow_id
            # sudo: feedback on a hint tunes its flow's threshold, which the user
            # may not edit otherwise
            flow.sudo().anomaly_k = baseline.tune(flow.anomaly_k, feedback)
            hint.feedback = feedback
        return True

    def action_useful(self):
        return self._give_feedback("useful")

    def action_noise(self):
        return self._give_feedback("noise")
