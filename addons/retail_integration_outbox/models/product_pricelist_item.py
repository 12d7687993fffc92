from odoo import api, models

from ..lib.events import PRICE_CHANGED

PRICE_FIELDS = {
    "product_id",
    "product_tmpl_id",
    "categ_id",
    "applied_on",
    "compute_price",
    "fixed_price",
    "percent_price",
    "price_discount",
    "price_surcharge",
    "base",
    "base_pricelist_id",
    "min_quantity",
    "date_start",
    "date_end",
    "active",
    "price_round",
    "price_min_margin",
    "price_max_margin",
}


class ProductPricelistItem(models.Model):
    _inherit = "product.pricelist.item"

    @api.model_create_multi
    def create(self, vals_list):
        items = super().create(vals_list)
        items._retail_capture_prices()
        return items

    def write(self, vals):
        if not PRICE_FIELDS & set(vals):
            return super().write(vals)
        self._retail_capture_prices()
        res = super().write(vals)
        self._retail_capture_prices()
        return res

    def unlink(self):
        self._retail_capture_prices()
        return super().unlink()

    def _retail_capture_prices(self):
        """Note the products whose price on a subscribed backend's pricelist
        may change; equal prices are dropped when the events are written."""
        wanted = self.env["retail.event.subscription"]._wanted_scopes(PRICE_CHANGED)
        Event = self.env["retail.outbox.event"]
        Product = self.env["product.product"].with_context(active_test=False)
        for item in self.filtered(lambda i: i.pricelist_id.id in wanted):
            if item.applied_on == "0_product_variant":
                products = item.product_id
            elif item.applied_on == "1_product":
                products = item.product_tmpl_id.product_variant_ids
            elif item.applied_on == "2_product_category":
                products = Product.search([("categ_id", "child_of", item.categ_id.id)])
            else:
                products = Product.search([("sale_ok", "=", True)])
            Event._capture(
                PRICE_CHANGED,
                products,
                scope=("product.pricelist", item.pricelist_id.id),
            )
