from odoo import api, fields, models


class RetailStorefrontGateway(models.Model):
    """Which journal a channel's payment gateway pays into."""

    _name = "retail.storefront.gateway"
    _description = "Storefront Payment Gateway"
    _order = "backend_id, gateway"
    _check_company_auto = True

    backend_id = fields.Many2one("retail.backend", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    gateway = fields.Char(
        required=True,
        help="The gateway's name as the channel gives it: Shopify's payment gateway "
        "name (e.g. shopify_payments, paypal), WooCommerce's payment method (e.g. "
        "stripe, bacs), the generic JSON's payment_gateway. Case does not matter.",
    )
    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
    )

    _sql_constraints = [
        (
            "gateway_uniq",
            "unique(backend_id, gateway)",
            "Each gateway of a backend pays into one journal.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("gateway"):
                vals["gateway"] = vals["gateway"].strip().lower()
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("gateway"):
            vals["gateway"] = vals["gateway"].strip().lower()
        return super().write(vals)
