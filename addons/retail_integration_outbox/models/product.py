from odoo import api, models
from odoo.tools import float_round

from ..lib.events import PRICE_CHANGED, PRODUCT_CHANGED, STOCK_LEVEL_CHANGED

# What channels see of a product; a write touching none of these sends nothing.
PRODUCT_FIELDS = {"name", "default_code", "barcode", "active"}


def capture_product_change(products, vals):
    """Snapshot what channels see of ``products`` before ``vals`` are written."""
    if not PRODUCT_FIELDS & set(vals) or (
        PRODUCT_CHANGED not in products.env["retail.event.subscription"]._routes()
    ):
        return
    Event = products.env["retail.outbox.event"]
    before = {
        product.id: product._retail_outbox_data(PRODUCT_CHANGED, None)
        for product in products
    }
    Event._capture(PRODUCT_CHANGED, products, before=before)


def capture_prices(products):
    Event = products.env["retail.outbox.event"]
    for pricelist_id in products.env["retail.event.subscription"]._wanted_pricelists():
        Event._capture(
            PRICE_CHANGED, products, scope=("product.pricelist", pricelist_id)
        )


class ProductTemplate(models.Model):
    _inherit = "product.template"

    def write(self, vals):
        if PRODUCT_FIELDS & set(vals) or "list_price" in vals:
            variants = self.with_context(active_test=False).product_variant_ids
            capture_product_change(variants, vals)
            if "list_price" in vals:
                capture_prices(variants)
        return super().write(vals)


class ProductProduct(models.Model):
    _inherit = "product.product"

    @api.model_create_multi
    def create(self, vals_list):
        products = super().create(vals_list)
        self.env["retail.outbox.event"]._capture(PRODUCT_CHANGED, products)
        return products

    def write(self, vals):
        capture_product_change(self, vals)
        return super().write(vals)

    def _retail_outbox_company(self, scope):
        if scope:
            return self.env[scope[0]].browse(scope[1]).company_id
        return self.company_id

    def _retail_outbox_data(self, event_type, scope):
        if event_type == STOCK_LEVEL_CHANGED:
            warehouse = self.env["stock.warehouse"].browse(scope[1])
            free_qty, on_hand = self._retail_outbox_levels(warehouse)
            return {
                "product": self._retail_outbox_identity(),
                "warehouse": {"id": warehouse.id, "code": warehouse.code},
                "free_qty": free_qty,
                "on_hand": on_hand,
                "uom": self.uom_id.name,
            }
        if event_type == PRICE_CHANGED:
            pricelist = self.env["product.pricelist"].browse(scope[1])
            return {
                "product": self._retail_outbox_identity(),
                "pricelist": {"id": pricelist.id, "name": pricelist.name},
                "currency": pricelist.currency_id.name,
                "price": pricelist._get_product_price(self, 1.0),
            }
        return dict(
            self._retail_outbox_identity(),
            active=self.active,
            template_id=self.product_tmpl_id.id,
        )

    def _retail_outbox_levels(self, warehouse):
        """(free_qty, qty_available) of the product in ``warehouse``, read afresh
        (the transaction may have moved stock since the last read).

        The same figures as the fields, from the quants alone: computing the
        fields also sums the product's open incoming and outgoing moves, which
        the event does not carry and which grow with the open orders. Kits
        (whose levels come from their components) go through the fields."""
        levels = self.with_context(warehouse_id=warehouse.id)
        if self._fields.get("is_kits") and self.is_kits:
            levels.invalidate_recordset(["free_qty", "qty_available"])
            return levels.free_qty, levels.qty_available
        domain = [("product_id", "=", self.id)] + levels._get_domain_locations()[0]
        [(quantity, reserved)] = self.env["stock.quant"]._read_group(
            domain, aggregates=["quantity:sum", "reserved_quantity:sum"]
        )
        quantity, reserved = quantity or 0.0, reserved or 0.0
        rounding = self.uom_id.rounding
        free_qty = float_round(quantity - reserved, precision_rounding=rounding)
        on_hand = float_round(quantity, precision_rounding=rounding)
        # As the fields would hold them (their decimal precision).
        return (
            self._fields["free_qty"].convert_to_cache(free_qty, self),
            self._fields["qty_available"].convert_to_cache(on_hand, self),
        )

    def _retail_outbox_identity(self):
        return {
            "id": self.id,
            "sku": self.default_code or None,
            "barcode": self.barcode or None,
            "name": self.name,
        }
