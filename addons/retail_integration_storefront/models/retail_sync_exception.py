from odoo import _, fields, models


class RetailSyncException(models.Model):
    _inherit = "retail.sync.exception"

    storefront_sku = fields.Char("Unknown SKU", readonly=True)
    storefront_product_ref = fields.Char("Channel Product", readonly=True)

    def action_storefront_map_product(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _(
                "Map SKU %(sku)s",
                sku=self.storefront_sku or self.storefront_product_ref,
            ),
            "res_model": "retail.storefront.map.product",
            "view_mode": "form",
            "target": "new",
            "context": {"default_exception_id": self.id},
        }
