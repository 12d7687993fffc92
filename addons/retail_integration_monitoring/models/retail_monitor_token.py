import hmac
import secrets

from odoo import _, api, fields, models


class RetailMonitorToken(models.Model):
    """A bearer token an outside monitor (Prometheus) presents to read
    ``/retail/metrics``; stored encrypted, shown once when generated."""

    _name = "retail.monitor.token"
    _description = "Metrics Scrape Token"
    _inherit = ["retail.secret.mixin"]
    _secret_fields = ("token",)

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_ids = fields.Many2many(
        "res.company",
        string="Companies",
        help="The companies whose flows this token may read; none: all.",
    )
    token = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_secret_fields",
        help="Write-only. Leave empty and click Generate for a random one.",
    )
    token_sealed = fields.Char(copy=False, groups="base.group_system")
    token_is_set = fields.Boolean(compute="_compute_secret_is_set")

    def action_generate(self):
        self.ensure_one()
        value = secrets.token_urlsafe(32)
        self.token = value
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "sticky": True,
                "title": _("Copy the token now: it is not shown again."),
                "message": value,
            },
        }

    @api.model
    def _authenticate(self, presented):
        """The active token record whose secret is ``presented``, or an
        empty recordset (compared in constant time with every token)."""
        found = self.browse()
        if not presented or len(presented) > 256:
            return found
        # sudo: auth='none' route: the token presented is the authentication
        for record in self.sudo().search([("token_sealed", "!=", False)]):
            if hmac.compare_digest(
                record._get_secret("token").encode(), presented.encode()
            ):
                found = record
        return found
