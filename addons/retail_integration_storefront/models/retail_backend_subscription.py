from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.retail_integration.lib.api_errors import ApiError, passes_by_itself
from odoo.addons.retail_integration_outbox.lib.events import (
    PRICE_CHANGED,
    PRODUCT_CHANGED,
    SHIPMENT_DISPATCHED,
    STOCK_LEVEL_CHANGED,
)

from .retail_storefront_exporter import SHIPMENT_DELIVERED

# Backend flag → the outbox event types its storefront subscription takes
# (those that exist: shipment.delivered comes with a carrier connector).
EXPORT_FLOWS = {
    "storefront_export_stock": (STOCK_LEVEL_CHANGED,),
    "storefront_export_prices": (PRICE_CHANGED,),
    "storefront_export_products": (PRODUCT_CHANGED,),
    "storefront_export_fulfilment": (SHIPMENT_DISPATCHED, SHIPMENT_DELIVERED),
}
SYNC_FIELDS = set(EXPORT_FLOWS) | {"state", "provider", "channel_type", "active"}


class RetailBackend(models.Model):
    """The outbound flows, and the outbox subscription that carries them."""

    _inherit = "retail.backend"

    storefront_export_stock = fields.Boolean(
        "Publish Stock",
        help="Push the free quantity at the backend's warehouse, less the safety "
        "buffer, to the channel whenever it changes.",
    )
    storefront_export_prices = fields.Boolean(
        "Publish Prices", help="Push the prices of the backend's pricelist."
    )
    storefront_export_products = fields.Boolean(
        "Publish Names and Status",
        help="Push product names, and archive (Shopify) or unpublish (WooCommerce) "
        "products archived in Odoo.",
    )
    storefront_publish_new = fields.Boolean(
        "Create New Products",
        help="A saleable product with an internal reference that the channel does "
        "not sell yet is created there (with its variants, prices, barcode and "
        "weight) when it changes, or with the product's Publish to Storefronts "
        "action.",
    )
    storefront_compare_pricelist_id = fields.Many2one(
        "product.pricelist",
        "Compare-at Pricelist",
        check_company=True,
        help="New products get this pricelist's price as their compare-at price "
        "(the crossed-out price) where it is higher than the sale price.",
    )
    storefront_export_fulfilment = fields.Boolean(
        "Publish Fulfilments",
        help="When a channel order's delivery is validated, fulfil it on the channel "
        "with its carrier and tracking number; with a carrier connector, tell the "
        "channel when the carrier reports the parcel delivered.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends._storefront_sync_subscription()
        return backends

    def write(self, vals):
        res = super().write(vals)
        if SYNC_FIELDS & set(vals):
            self._storefront_sync_subscription()
        return res

    def _storefront_sync_subscription(self):
        """One subscription in storefront mode per backend with an outbound flow
        on, taking the flows' event types; archived when no flow is on or the
        backend is a draft (a paused backend keeps capturing: its backlog is
        sent, coalesced, when it is active again)."""
        Sub = (
            # sudo: the backend's own connector subscription, kept by the module, not by
            # a person
            self.env["retail.event.subscription"].sudo().with_context(active_test=False)
        )
        # sudo: as above: the types it subscribes to
        Type = self.env["retail.outbox.event.type"].sudo()
        api_providers = self._storefront_api_providers()
        for backend in self:
            codes = [
                code
                for name, codes in EXPORT_FLOWS.items()
                if backend[name]
                for code in codes
            ]
            sub = Sub.search(
                [("backend_id", "=", backend.id), ("delivery_mode", "=", "storefront")],
                limit=1,
            )
            wanted = bool(
                codes
                and backend.active
                and backend.channel_type == "storefront"
                and backend.provider in api_providers
                and backend.state in ("active", "paused")
            )
            if not wanted:
                if sub.active:
                    sub.active = False
                continue
            types = Type.search([("code", "in", codes)])
            if not sub:
                Sub.create(
                    {
                        "name": _("%(name)s: storefront API", name=backend.name),
                        "backend_id": backend.id,
                        "delivery_mode": "storefront",
                        "event_type_ids": [(6, 0, types.ids)],
                    }
                )
                continue
            vals = {}
            if set(sub.event_type_ids.ids) != set(types.ids):
                vals["event_type_ids"] = [(6, 0, types.ids)]
            if not sub.active:
                vals["active"] = True
            if vals:
                sub.write(vals)

    def _storefront_publish_products(self, product_ids):
        """Job: create on the channel those of ``product_ids`` it does not sell
        yet (see ``retail.storefront.exporter._publish``)."""
        self.ensure_one()
        products = self.env["product.product"].browse(product_ids).exists()
        try:
            adapter = self._storefront_connect()
            location = self._storefront_location(adapter)
            created = self.env["retail.storefront.exporter"]._publish(
                self, adapter, location, products
            )
        except (ApiError, UserError) as err:
            if isinstance(err, ApiError) and passes_by_itself(err):
                raise RetryableJobError(str(err), seconds=30) from err
            self._storefront_job_failed(
                err,
                _(
                    "Products could not be published to %(name)s: %(error)s",
                    name=self.name,
                    error=err,
                ),
                _("Publishing to %(name)s failed", name=self.name),
                "publish:api",
            )
            return _("Publishing failed: %(error)s", error=err)
        return _(
            "%(created)s product(s) created on %(name)s; the others were there.",
            created=len(created),
            name=self.name,
        )
