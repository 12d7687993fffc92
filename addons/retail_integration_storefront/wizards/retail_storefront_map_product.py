from odoo import _, api, fields, models
from odoo.exceptions import UserError


class RetailStorefrontMapProduct(models.TransientModel):
    """Map a channel's unknown SKU to a product, then retry what failed on it."""

    _name = "retail.storefront.map.product"
    _description = "Map a Channel SKU to a Product"

    exception_id = fields.Many2one(
        "retail.sync.exception", required=True, ondelete="cascade"
    )
    backend_id = fields.Many2one(related="exception_id.backend_id")
    company_id = fields.Many2one(related="exception_id.company_id")
    sku = fields.Char(related="exception_id.storefront_sku")
    product_ref = fields.Char(related="exception_id.storefront_product_ref")
    product_id = fields.Many2one(
        "product.product",
        required=True,
        domain="[('sale_ok', '=', True), ('company_id', 'in', (company_id, False))]",
    )
    set_default_code = fields.Boolean(
        "Use the SKU as Internal Reference",
        help="Also give the product this SKU as its internal reference, if it "
        "has none.",
    )

    @api.onchange("product_id")
    def _onchange_product_id(self):
        self.set_default_code = bool(
            self.product_id and not self.product_id.default_code and self.sku
        )

    def action_map_and_retry(self):
        self.ensure_one()
        if not self.backend_id:
            raise UserError(_("This exception belongs to no backend."))
        key = self.env["retail.importer"]._product_key(self.sku, self.product_ref)
        # sudo: the Integration User maps a SKU; binding is the connector's index
        self.env["retail.external.ref"].sudo()._bind(
            self.backend_id, self.product_id, key
        )
        if self.set_default_code and self.sku and not self.product_id.default_code:
            self.product_id.default_code = self.sku
        self.exception_id.message_post(
            body=_(
                "SKU %(sku)s mapped to %(product)s.",
                sku=self.sku or self.product_ref,
                product=self.product_id.display_name,
            )
        )
        if self.exception_id.retryable:
            self.exception_id.action_retry()
        return {"type": "ir.actions.act_window_close"}
