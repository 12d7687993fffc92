from odoo import api, models


class StockWarehouse(models.Model):
    _inherit = "stock.warehouse"

    # The API clients' cached settings list their warehouses (_config).

    @api.model_create_multi
    def create(self, vals_list):
        warehouses = super().create(vals_list)
        self.env.registry.clear_cache()
        return warehouses

    def write(self, vals):
        res = super().write(vals)
        if {"code", "company_id", "active"} & set(vals):
            self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res
