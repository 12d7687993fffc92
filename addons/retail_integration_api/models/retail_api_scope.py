from odoo import fields, models


class RetailApiScope(models.Model):
    """A permission an API client may hold; its groups are what the client's
    technical user gets for it, and nothing more."""

    _name = "retail.api.scope"
    _description = "Retail API Scope"
    _order = "code"

    code = fields.Char(required=True, readonly=True)
    name = fields.Char(required=True, translate=True)
    group_ids = fields.Many2many(
        "res.groups",
        string="Rights Granted",
        help="Groups the technical user of a client holding this scope gets.",
    )

    _sql_constraints = [("code_uniq", "unique(code)", "A scope code is unique.")]

    def write(self, vals):
        res = super().write(vals)
        if "group_ids" in vals:
            self.env["retail.api.client"].search(
                [("scope_ids", "in", self.ids)]
            )._sync_technical_user()
        return res
