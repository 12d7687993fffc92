from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class RetailOutboxReplayWizard(models.TransientModel):
    """Replay everything a subscription was sent (or failed to send) in a window."""

    _name = "retail.outbox.replay.wizard"
    _description = "Replay Outbox Deliveries"

    subscription_id = fields.Many2one("retail.event.subscription", required=True)
    date_from = fields.Datetime(
        "From",
        required=True,
        default=lambda self: fields.Datetime.now() - timedelta(hours=1),
    )
    date_to = fields.Datetime("To", required=True, default=fields.Datetime.now)
    scope = fields.Selection(
        [("all", "All deliveries"), ("undelivered", "Failed and dead only")],
        required=True,
        default="all",
    )
    match_count = fields.Integer("Deliveries", compute="_compute_match_count")

    def _states(self):
        return ["failed", "dead"] if self.scope == "undelivered" else None

    @api.depends("subscription_id", "date_from", "date_to", "scope")
    def _compute_match_count(self):
        Delivery = self.env["retail.outbox.delivery"]
        for wizard in self:
            domain = [
                ("subscription_id", "=", wizard.subscription_id.id),
                ("event_id.occurred_at", ">=", wizard.date_from),
                ("event_id.occurred_at", "<=", wizard.date_to),
            ]
            if wizard._states():
                domain.append(("state", "in", wizard._states()))
            wizard.match_count = (
                Delivery.search_count(domain) if wizard.subscription_id else 0
            )

    def action_replay(self):
        self.ensure_one()
        if self.date_from > self.date_to:
            raise UserError(_("The window ends before it starts."))
        replayed = self.env["retail.outbox.delivery"]._replay_window(
            self.subscription_id, self.date_from, self.date_to, self._states()
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if replayed else "warning",
                "message": _(
                    "%(n)s delivery(ies) queued to be sent again.", n=len(replayed)
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
