from odoo import api, fields, models


class PosSession(models.Model):
    """A session of an external register is one business day of that
    register: several days may be open at once (a day waiting for late
    tickets while the next is sold), which Odoo's own sessions never are."""

    _inherit = "pos.session"

    retail_register_id = fields.Many2one(
        "retail.pos.register", "External Register", readonly=True, index=True
    )
    retail_business_date = fields.Date("Business Date", readonly=True)

    def init(self):
        self.env.cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS pos_session_retail_day_uniq
               ON pos_session (retail_register_id, retail_business_date)
               WHERE retail_register_id IS NOT NULL"""
        )

    @api.constrains("config_id")
    def _check_pos_config(self):
        return super(
            PosSession, self.filtered(lambda s: not s.retail_register_id)
        )._check_pos_config()
