from odoo import api, models
from odoo.tools import float_round

from ..lib import payloads
from ..lib.events import PRICE_CHANGED, PRODUCT_CHANGED, STOCK_LEVEL_CHANGED

# What channels see of a product; a write touching none of these sends nothing.
PRODUCT_FIELDS = {"name", "default_code", "barcode", "active"}


@payloads.register(PRODUCT_CHANGED)
def product_changed(product, scope):
    return dict(
        product._retail_outbox_identity(),
        active=product.active,
        template_id=product.product_tmpl_id.id,
    )


@payloads.register(STOCK_LEVEL_CHANGED)
def stock_level_changed(product, scope):
    warehouse = product.env["stock.warehouse"].browse(scope[1])
    free_qty, on_hand = product._retail_outbox_levels(warehouse)
    return {
        "product": product._retail_outbox_identity(),
        "warehouse": {"id": warehouse.id, "code": warehouse.code},
        "free_qty": free_qty,
        "on_hand": on_hand,
        "uom": product.uom_id.name,
    }


@payloads.register(PRICE_CHANGED)
def price_changed(product, scope):
    pricelist = product.env["product.pricelist"].browse(scope[1])
    return {
        "product": product._retail_outbox_identity(),
        "pricelist": {"id": pricelist.id, "name": pricelist.name},
        "currency": pricelist.currency_id.name,
        "price": pricelist._get_product_price(product, 1.0),
    }


def capture_product_change(products, vals):
    """Snapshot what channels see of ``products`` before ``vals`` are written."""
    if not PRODUCT_FIELDS & set(vals) or (
        PRODUCT_CHANGED not in products.env["retail.event.subscription"]._routes()
    ):
        return
    # In the version the event's data is compared in (its default).
    spec = products.env["retail.outbox.event.type"]._specs()[PRODUCT_CHANGED]
    before = {
        product.id: product._retail_outbox_data(
            PRODUCT_CHANGED, None, spec.default_version
        )
        for product in products
    }
    products.env["retail.outbox.event"]._capture(
        PRODUCT_CHANGED, products, before=before
    )


def capture_prices(products):
    Event = products.env["retail.outbox.event"]
    Subscription = products.env["retail.event.subscription"]
    for pricelist_id in Subscription._wanted_scopes(PRICE_CHANGED):
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

    def _retail_outbox_data(self, event_type, scope, version=1):
        """The data of an ``event_type`` event about this product (the
        storefront's reconciliation compares it with the channel's)."""
        return payloads.build(event_type, version, self, scope)

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
