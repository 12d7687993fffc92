from odoo import fields, models

from ..lib import routing


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    subscription_ids = fields.One2many("retail.event.subscription", "backend_id")

    def write(self, vals):
        res = super().write(vals)
        # Routes take the scope the backend names (its pricelist, its
        # warehouse: lib/routing.py).
        if routing.backend_fields() & set(vals) and self.subscription_ids:
            self.env.registry.clear_cache()
        return res

    def _outbox_pricelist_ids(self):
        """The pricelists whose prices this backend's subscriptions take
        (routing ``pricelist``): its own. A module whose backends sell at
        several (a POS backend's stores) adds theirs."""
        self.ensure_one()
        return self.pricelist_id.ids
