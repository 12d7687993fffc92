from odoo import api, models

from ..lib.events import STOCK_LEVEL_CHANGED

LEVEL_FIELDS = {"quantity", "reserved_quantity", "location_id", "product_id"}


class StockQuant(models.Model):
    _inherit = "stock.quant"

    @api.model_create_multi
    def create(self, vals_list):
        quants = super().create(vals_list)
        quants._retail_capture_levels()
        return quants

    def write(self, vals):
        if LEVEL_FIELDS & set(vals):
            self._retail_capture_levels()  # the old location/product...
            res = super().write(vals)
            self._retail_capture_levels()  # ...and the new one
            return res
        return super().write(vals)

    def _retail_capture_levels(self):
        """Note each (product, warehouse) whose free quantity may have moved;
        the level is read once, when the transaction commits."""
        Event = self.env["retail.outbox.event"]
        for quant in self:
            warehouse = quant.location_id.warehouse_id
            if warehouse and quant.product_id.is_storable:
                Event._capture(
                    STOCK_LEVEL_CHANGED,
                    quant.product_id,
                    scope=("stock.warehouse", warehouse.id),
                )
