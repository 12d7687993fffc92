from odoo import fields, models


class RetailPosAcceptDifference(models.TransientModel):
    """Accept a store day's difference, with the reason, logged in its chatter."""

    _name = "retail.pos.accept.difference"
    _description = "Accept a Store Day Difference"

    store_day_id = fields.Many2one("retail.pos.store.day", required=True)
    reason = fields.Text(required=True)

    def action_accept(self):
        self.ensure_one()
        self.store_day_id._accept_difference(self.reason)
        return {"type": "ir.actions.act_window_close"}
