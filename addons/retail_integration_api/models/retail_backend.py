from odoo import models


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def write(self, vals):
        res = super().write(vals)
        if "storefront_safety_buffer" in vals or "state" in vals:
            self.env.registry.clear_cache()  # the API clients' _config
        return res
