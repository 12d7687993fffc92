from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.retail_integration.lib.api_errors import ApiError

from ..lib.adapter import ADAPTERS, Settings


def _product_setting_field(string, xmlid, **kwargs):
    """A product the importer puts on order lines, the module's own by default."""
    return fields.Many2one(
        "product.product",
        string,
        default=lambda self: self.env.ref(
            f"retail_integration_storefront.{xmlid}", raise_if_not_found=False
        ),
        check_company=True,
        **kwargs,
    )


class RetailBackend(models.Model):
    """A storefront backend's settings and its connection to the channel,
    through the adapter registered for its provider (``lib/adapter.py``)."""

    _inherit = "retail.backend"
    # The core's credentials and the Stripe key of the payouts.
    _secret_fields = ("api_key", "api_secret", "storefront_stripe_key")

    provider = fields.Selection(
        selection_add=[("shopify", "Shopify"), ("woocommerce", "WooCommerce")],
        ondelete={"shopify": "set default", "woocommerce": "set default"},
    )
    storefront_shop_url = fields.Char(
        "Shop URL",
        help="Shopify: https://<shop>.myshopify.com. WooCommerce: the site's address, "
        "e.g. https://shop.example.",
    )
    storefront_api_version = fields.Char(
        "API Version",
        default="2025-01",
        help="Shopify Admin API version used in the GraphQL URL.",
    )
    storefront_location_id = fields.Char(
        "Shopify Location",
        help="Global id of the Shopify location the stock is published to "
        "(gid://shopify/Location/...). Empty: the shop's first location, filled in "
        "at the first push or connection test.",
    )
    storefront_import_orders = fields.Boolean(
        "Import Orders",
        default=True,
        help="Turn the channel's order webhooks into sale orders.",
    )
    storefront_auto_confirm = fields.Boolean(
        "Confirm When Paid",
        default=True,
        help="Confirm the sale order as soon as the channel says it is paid.",
    )
    storefront_safety_buffer = fields.Float(
        "Stock Safety Buffer",
        digits="Product Unit of Measure",
        help="Quantity held back from the stock published to the channel.",
    )
    storefront_fiscal_position_id = fields.Many2one(
        "account.fiscal.position",
        "Fiscal Position",
        check_company=True,
        help="Maps the products' taxes on imported orders. Empty: the customer's.",
    )
    storefront_shipping_product_id = _product_setting_field(
        "Shipping Product", "product_storefront_shipping"
    )
    storefront_discount_product_id = _product_setting_field(
        "Discount Product", "product_storefront_discount"
    )
    storefront_fee_product_id = _product_setting_field(
        "Fees Product",
        "product_storefront_fee",
        help="Carries WooCommerce fees, Shopify tips and duties, one line each "
        "named after it. Its taxes apply to the fees the channel taxed.",
    )
    storefront_goodwill_product_id = _product_setting_field(
        "Goodwill Refund Product",
        "product_storefront_goodwill",
        help="Carries a refund of money without goods (goodwill) on its credit "
        "note, at the amount given back, without tax.",
    )
    storefront_invoice_paid = fields.Boolean(
        "Invoice Paid Orders",
        help="A paid channel order is invoiced when it is confirmed, and the "
        "channel's payment is registered on the invoice in its gateway's journal; "
        "a refund's credit note is paid back from the same journal.",
    )
    storefront_payment_journal_id = fields.Many2one(
        "account.journal",
        "Payment Journal",
        check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        help="Where the payments of gateways not listed below are registered.",
    )
    storefront_gateway_ids = fields.One2many(
        "retail.storefront.gateway", "backend_id", string="Gateway Journals"
    )
    # Payouts (Stripe's payout.paid on the backend's Stripe endpoint).
    storefront_stripe_key = fields.Char(
        "Stripe Secret Key",
        compute="_compute_secret_fields",
        inverse="_inverse_secret_fields",
        help="A restricted key that may read balance transactions: the payouts' "
        "lines are read with it. Stored encrypted; never displayed again.",
    )
    storefront_stripe_key_sealed = fields.Char(copy=False, groups="base.group_system")
    storefront_stripe_key_is_set = fields.Boolean(compute="_compute_secret_is_set")
    storefront_stripe_api_url = fields.Char(
        "Stripe API", default="https://api.stripe.com"
    )
    storefront_payout_journal_id = fields.Many2one(
        "account.journal",
        "Payout Journal",
        check_company=True,
        domain="[('type', '=', 'bank')]",
        help="The bank account payouts arrive in: a payout is posted there, for "
        "the bank statement to match.",
    )
    storefront_fee_account_id = fields.Many2one(
        "account.account", "Fees Account", check_company=True
    )
    storefront_payout_tolerance = fields.Float(
        "Payout Tolerance",
        default=0.01,
        help="A difference up to this amount between a payout's lines, or a "
        "charge and its order, still matches.",
    )
    storefront_price_list_ids = fields.One2many(
        "retail.storefront.price.list",
        "backend_id",
        string="Market Price Lists",
        help="Channel price lists (Shopify markets) that take the prices of "
        "another pricelist, in its currency, when prices are published.",
    )
    # What the provider's adapter supports, for the form.
    storefront_has_api = fields.Boolean(compute="_compute_storefront_provider")
    storefront_has_api_version = fields.Boolean(compute="_compute_storefront_provider")
    storefront_has_locations = fields.Boolean(compute="_compute_storefront_provider")
    storefront_has_price_lists = fields.Boolean(compute="_compute_storefront_provider")
    storefront_credentials_help = fields.Char(compute="_compute_storefront_provider")
    sale_order_ids = fields.One2many("sale.order", "retail_backend_id")
    sale_order_count = fields.Integer(compute="_compute_sale_order_count")

    @api.depends("provider")
    def _compute_storefront_provider(self):
        for backend in self:
            adapter = ADAPTERS.get(backend.provider)
            backend.storefront_has_api = bool(adapter and adapter.has_api)
            backend.storefront_has_api_version = bool(
                adapter and adapter.has_api_version
            )
            backend.storefront_has_locations = bool(adapter and adapter.has_locations)
            backend.storefront_has_price_lists = bool(
                adapter and adapter.has_price_lists
            )
            help_ = []
            for name, label in (adapter.credentials if adapter else {}).items():
                help_.append(
                    _(
                        "Save the %(credential)s as %(field)s.",
                        credential=label,
                        field=self._fields[name].string,
                    )
                )
            backend.storefront_credentials_help = " ".join(help_)

    def _compute_sale_order_count(self):
        groups = self.env["sale.order"]._read_group(
            [("retail_backend_id", "in", self.ids)], ["retail_backend_id"], ["__count"]
        )
        counts = {backend.id: count for backend, count in groups}
        for backend in self:
            backend.sale_order_count = counts.get(backend.id, 0)

    def action_open_sale_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sale.action_orders")
        action["domain"] = [("retail_backend_id", "=", self.id)]
        action["context"] = {"default_retail_backend_id": self.id}
        return action

    @api.model
    def _storefront_api_providers(self):
        """The providers with an API to call (pull, publish, reconcile)."""
        return ADAPTERS.keys(lambda adapter: adapter.has_api)

    def _storefront_adapter(self):
        """The adapter class of the backend's provider."""
        self.ensure_one()
        adapter = ADAPTERS.get(self.provider)
        if not adapter:
            raise UserError(
                _("Provider %(provider)s is not a storefront.", provider=self.provider)
            )
        return adapter

    def _storefront_connect(self):
        """The provider's adapter, connected to the channel's API with the
        backend's settings and credentials."""
        self.ensure_one()
        if not self.storefront_shop_url:
            raise UserError(_("Backend %(name)s has no shop URL.", name=self.name))
        adapter = self._storefront_adapter()
        if not adapter.has_api:
            raise UserError(
                _(
                    "Provider %(provider)s has no API to call.",
                    provider=self.provider,
                )
            )
        secrets = {name: self._get_secret(name) for name in adapter.credentials}
        missing = [
            label for name, label in adapter.credentials.items() if not secrets[name]
        ]
        if missing:
            raise UserError(
                _(
                    "Backend %(name)s has no %(credentials)s.",
                    name=self.name,
                    credentials=", ".join(missing),
                )
            )
        return adapter(
            Settings(
                shop_url=self.storefront_shop_url,
                api_version=self.storefront_api_version or "",
                **secrets,
            )
        )

    def _storefront_client(self):
        """The API client of the channel (see ``_storefront_connect``)."""
        return self._storefront_connect().client

    def _storefront_location(self, adapter):
        """The location stock is published to, for channels that publish
        stock per location (found once); None for the others."""
        self.ensure_one()
        if not adapter.has_locations:
            return None
        if not self.storefront_location_id:
            # sudo: found by Test Connection, kept whatever the tester may write
            self.sudo().storefront_location_id = adapter.primary_location()
        return self.storefront_location_id

    def _storefront_product_refs(self, domain, order=None):
        """The external references of products in this backend that
        ``domain`` selects (listings, channel variant ids, SKUs)."""
        return (
            self.env["retail.external.ref"]
            # sudo: the connector's index of bound products, read for the export
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("res_model", "=", "product.product"),
                    *domain,
                ],
                order=order,
            )
        )

    def _storefront_job_failed(self, err, cause, name, key):
        """Inbox item of a job that met an API error (a connection problem)
        or a UserError (a configuration problem)."""
        # sudo: inbox items are filed on the backend's behalf
        self.env["retail.sync.exception"].sudo()._report(
            cause,
            name=name,
            backend=self,
            kind="connection" if isinstance(err, ApiError) else "configuration",
            source=self,
            key=key,
        )

    def _notify(self, message, kind="success"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": kind, "message": message, "sticky": False},
        }

    def action_storefront_test_connection(self):
        self.ensure_one()
        adapter = self._storefront_connect()
        try:
            channel = adapter.connection_label()
            location = self._storefront_location(adapter)
        except ApiError as err:
            raise UserError(
                _("The connection test failed: %(error)s", error=err)
            ) from err
        if location:
            return self._notify(
                _(
                    "Connected to %(channel)s; stock goes to %(location)s.",
                    channel=channel,
                    location=location,
                )
            )
        return self._notify(_("Connected to %(channel)s.", channel=channel))
