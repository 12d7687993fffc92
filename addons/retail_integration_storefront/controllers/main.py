from odoo import http
from odoo.http import request


class StorefrontImages(http.Controller):
    """The images of products published to a channel, for the channel to
    fetch (Shopify's ``media.originalSource``, WooCommerce's ``images.src``):
    only at a URL Odoo signed for that product, and only while the product
    is saleable and active. Nothing else of the database is public."""

    @http.route(
        "/retail/storefront/image/<int:template_id>/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "HEAD"],
        readonly=True,
    )
    def image(self, template_id, token):
        Template = request.env["product.template"]
        # sudo: the signed URL is the permission; only these fields are read
        template = Template.sudo().browse(template_id).exists()
        if (
            not template
            or not template.active
            or not template.sale_ok
            or not template.image_1920
            or not Template._storefront_image_token_ok(template_id, token)
        ):
            raise request.not_found()
        return (
            request.env["ir.binary"]
            ._get_image_stream_from(template, "image_1920")
            .get_response(max_age=86400)
        )
