import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError

from ..lib.canonical import MappingError
from ..lib.clients import (
    ApiError,
    ShopifyClient,
    Throttled,
    Unavailable,
    WooCommerceClient,
)
from ..lib.mappers import ORDER_MAPPERS

_logger = logging.getLogger(__name__)

# Orders changed this long before the watermark are fetched again: clocks
# differ, and a channel may commit an order after stamping it.
PULL_OVERLAP = timedelta(minutes=5)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

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
    storefront_import_orders = fields.Boolean(
        "Import Orders",
        default=True,
        help="Turn the channel's order webhooks into sale orders.",
    )
    storefront_pull_orders = fields.Boolean(
        "Pull Missed Orders",
        help="A scheduled job fetches the orders changed since the last pull "
        "through the channel's API, so that orders missed by webhooks arrive too.",
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
    storefront_shipping_product_id = fields.Many2one(
        "product.product",
        "Shipping Product",
        default=lambda self: self.env.ref(
            "retail_integration_storefront.product_storefront_shipping",
            raise_if_not_found=False,
        ),
        check_company=True,
    )
    storefront_discount_product_id = fields.Many2one(
        "product.product",
        "Discount Product",
        default=lambda self: self.env.ref(
            "retail_integration_storefront.product_storefront_discount",
            raise_if_not_found=False,
        ),
        check_company=True,
    )
    storefront_fee_product_id = fields.Many2one(
        "product.product",
        "Fees Product",
        default=lambda self: self.env.ref(
            "retail_integration_storefront.product_storefront_fee",
            raise_if_not_found=False,
        ),
        check_company=True,
        help="Carries WooCommerce fees, Shopify tips and duties, one line each "
        "named after it. Its taxes apply to the fees the channel taxed.",
    )
    storefront_pulled_until = fields.Datetime(
        "Orders Pulled Until",
        copy=False,
        help="Watermark of the pull import: orders changed after it are fetched next.",
    )
    sale_order_ids = fields.One2many("sale.order", "retail_backend_id")
    sale_order_count = fields.Integer(compute="_compute_sale_order_count")

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
    def _cron_pull_orders(self):
        """Cron: one pull job per active storefront backend whose pull is on."""
        backends = self.search(
            [
                ("state", "=", "active"),
                ("channel_type", "=", "storefront"),
                ("storefront_pull_orders", "=", True),
                ("provider", "in", ("shopify", "woocommerce")),
            ]
        )
        for backend in backends:
            backend._with_delay(
                backend,
                description=_("Pull orders of %(name)s", name=backend.name),
                identity_key=f"retail_storefront_pull:{backend.id}",
            )._pull_orders()
        return backends

    def _retail_exception_retry(self):
        """The inbox's Retry on a failed pulled order: pull again now."""
        for backend in self:
            backend._with_delay(
                backend, description=_("Pull orders of %(name)s", name=backend.name)
            )._pull_orders()

    def _storefront_client(self):
        self.ensure_one()
        if not self.storefront_shop_url:
            raise UserError(_("Backend %(name)s has no shop URL.", name=self.name))
        if self.provider == "shopify":
            token = self._get_secret("api_secret")
            if not token:
                raise UserError(
                    _("Backend %(name)s has no Shopify access token.", name=self.name)
                )
            return ShopifyClient(
                self.storefront_shop_url,
                token,
                self.storefront_api_version or "2025-01",
            )
        if self.provider == "woocommerce":
            key, secret = self._get_secret("api_key"), self._get_secret("api_secret")
            if not key or not secret:
                raise UserError(
                    _(
                        "Backend %(name)s has no WooCommerce consumer key and secret.",
                        name=self.name,
                    )
                )
            return WooCommerceClient(self.storefront_shop_url, key, secret)
        raise UserError(
            _(
                "Provider %(provider)s has no API to pull orders from.",
                provider=self.provider,
            )
        )

    def _pull_orders(self):
        """Job: import the orders changed since the watermark, through the same
        mapper and importer as the webhooks. Throttling and outages retry the
        job; an order that fails goes to the inbox and is fetched again next
        time (the watermark stops before it)."""
        self.ensure_one()
        if self.state != "active" or not self.storefront_pull_orders:
            return _("Pull import is off or the backend is not active.")
        started = fields.Datetime.now()
        since = (
            self.storefront_pulled_until and self.storefront_pulled_until - PULL_OVERLAP
        )
        mapper = ORDER_MAPPERS[self.provider]
        importer = self.env["retail.storefront.importer"]
        newest, oldest_failed = None, None
        imported = failed = 0
        try:
            client = self._storefront_client()
            for payload in client.orders_since(since):
                try:
                    with self.env.cr.savepoint():
                        order = mapper(payload)
                        importer._import_order(self, order)
                    imported += 1
                    if order.updated_at:
                        newest = max(newest or order.updated_at, order.updated_at)
                except (MappingError, UserError) as err:
                    failed += 1
                    moment = self._pull_report(payload, err)
                    if moment:
                        oldest_failed = min(oldest_failed or moment, moment)
        except Throttled as err:
            if not imported:
                raise RetryableJobError(str(err), seconds=err.retry_after) from err
            self._with_delay(self, eta=err.retry_after)._pull_orders()
            _logger.info(
                "Pull of backend %s throttled after %s orders: continues later",
                self.id,
                imported,
            )
        except Unavailable as err:
            raise RetryableJobError(str(err), seconds=30) from err
        except (ApiError, UserError) as err:
            self.env["retail.sync.exception"].sudo()._report(
                _(
                    "Orders could not be pulled from %(name)s: %(error)s",
                    name=self.name,
                    error=err,
                ),
                name=_("Order pull of %(name)s failed", name=self.name),
                backend=self,
                kind="connection" if isinstance(err, ApiError) else "configuration",
                source=self,
                key="pull:api",
            )
            return _("The pull failed: %(error)s", error=err)
        else:
            newest = newest or started
        watermark = min((m for m in (newest, oldest_failed) if m), default=None)
        if watermark:
            self.storefront_pulled_until = watermark
        return _(
            "%(imported)s order(s) imported or already up to date, %(failed)s failed.",
            imported=imported,
            failed=failed,
        )

    def _pull_report(self, payload, err):
        """Inbox item for one pulled order; its update time, if readable."""
        order_id = str(payload.get("id") if isinstance(payload, dict) else "?")[:64]
        cause = str(err.args[0]) if err.args else str(err)
        self.env["retail.sync.exception"].sudo()._report(
            cause,
            name=_("Pulled order %(id)s could not be imported", id=order_id),
            backend=self,
            kind=getattr(err, "kind", "data"),
            source=self,
            key=f"pull:{getattr(err, 'key', None) or order_id + ':' + cause}",
            vals=getattr(err, "vals", None),
        )
        try:
            return ORDER_MAPPERS[self.provider](payload).updated_at
        except MappingError:
            return None
