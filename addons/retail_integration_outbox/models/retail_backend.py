from odoo import fields, models


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    subscription_ids = fields.One2many("retail.event.subscription", "backend_id")

    def write(self, vals):
        res = super().write(vals)
        # Price events are routed by the backend's pricelist, stock events
        # by its warehouse.
        if {"pricelist_id", "warehouse_id"} & set(vals) and self.subscription_ids:
            self.env.registry.clear_cache()
        return res
