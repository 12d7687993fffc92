import hmac as hmac_lib

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools.misc import hmac

IMAGE_SCOPE = "retail_storefront_image"


class ProductTemplate(models.Model):
    _inherit = "product.template"

    def _storefront_image_url(self):
        """A public URL of the product's image for a channel to fetch, signed
        with the database secret (see ``controllers/main.py``); None without
        an image."""
        self.ensure_one()
        if not self.image_1920:
            return None
        token = hmac(self.env(su=True), IMAGE_SCOPE, self.id)
        base = self.get_base_url().rstrip("/")
        return f"{base}/retail/storefront/image/{self.id}/{token}"

    @api.model
    def _storefront_image_token_ok(self, template_id, token):
        expected = hmac(self.env(su=True), IMAGE_SCOPE, template_id)
        return hmac_lib.compare_digest(expected, str(token))

    def action_retail_storefront_publish(self):
        """Publish these products to every active storefront backend of their
        company that creates new products: one job per backend."""
        backends = self.env["retail.backend"].search(
            [
                ("state", "=", "active"),
                ("channel_type", "=", "storefront"),
                ("storefront_publish_new", "=", True),
                (
                    "provider",
                    "in",
                    self.env["retail.backend"]._storefront_api_providers(),
                ),
            ]
        )
        if not backends:
            raise UserError(
                _(
                    "No active storefront backend creates new products: turn on "
                    "Create New Products on its Storefront tab first."
                )
            )
        products = self.product_variant_ids
        for backend in backends:
            mine = products.filtered(
                lambda p, b=backend: (
                    p.company_id in (b.company_id, p.env["res.company"])
                )
            )
            if mine:
                backend._with_delay(
                    backend,
                    description=_("Publish products to %(name)s", name=backend.name),
                )._storefront_publish_products(mine.ids)
        return backends._notify(
            _(
                "Publishing queued for %(names)s.",
                names=", ".join(backends.mapped("name")),
            )
        )
