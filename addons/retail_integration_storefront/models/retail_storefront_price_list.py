from odoo import api, fields, models
from odoo.exceptions import ValidationError


class RetailStorefrontPriceList(models.Model):
    """A channel price list (a Shopify market's) that takes the prices of an
    Odoo pricelist, in that pricelist's currency, whenever the backend
    publishes prices."""

    _name = "retail.storefront.price.list"
    _description = "Storefront Market Price List"
    _order = "backend_id, id"
    _check_company_auto = True

    backend_id = fields.Many2one("retail.backend", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    channel_price_list = fields.Char(
        "Channel Price List",
        required=True,
        help="The channel's price list id (Shopify: gid://shopify/PriceList/…, "
        "the price list of a market's catalog).",
    )
    pricelist_id = fields.Many2one(
        "product.pricelist",
        "Pricelist",
        required=True,
        check_company=True,
        help="Its prices are published as the channel price list's fixed prices; "
        "its currency must be the price list's.",
    )
    currency_id = fields.Many2one(related="pricelist_id.currency_id")

    _sql_constraints = [
        (
            "price_list_uniq",
            "unique(backend_id, channel_price_list)",
            "A channel price list takes the prices of one pricelist.",
        ),
    ]

    @api.constrains("channel_price_list")
    def _check_channel_price_list(self):
        for record in self:
            if not record.channel_price_list.startswith("gid://shopify/PriceList/"):
                raise ValidationError(
                    self.env._(
                        "%(value)s is not a Shopify price list id "
                        "(gid://shopify/PriceList/…).",
                        value=record.channel_price_list,
                    )
                )
