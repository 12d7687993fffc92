import dataclasses

from odoo import _, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError

from ..lib.canonical import MappingError
from ..lib.mappers import ORDER_MAPPERS, shopify_refund

ORDER = "_handle_storefront_order"
# What a topic says about the order even when its payload is older news.
TOPIC_HINTS = {
    "order.paid": {"financial_status": "paid"},
    "orders/paid": {"financial_status": "paid"},
    "order.cancelled": {"status": "cancelled"},
    "orders/cancelled": {"status": "cancelled"},
    "order.refunded": {"financial_status": "refunded"},
}
UNPAID = ("pending", "authorized", "partially_paid")


class RetailInboundMessage(models.Model):
    _inherit = "retail.inbound.message"

    def _webhook_handlers(self):
        handlers = super()._webhook_handlers()
        for topic in (
            "order.created",
            "order.updated",
            "order.paid",
            "order.cancelled",
            "order.refunded",
        ):
            handlers[("generic", topic)] = ORDER
        for topic in (
            "orders/create",
            "orders/updated",
            "orders/paid",
            "orders/cancelled",
        ):
            handlers[("shopify", topic)] = ORDER
        handlers[("shopify", "refunds/create")] = "_handle_storefront_refund"
        for topic in ("order.created", "order.updated", "order.restored"):
            handlers[("woocommerce", topic)] = ORDER
        handlers[("woocommerce", "order.deleted")] = "_handle_storefront_order_deleted"
        return handlers

    def _storefront_canonical(self, payload):
        """The canonical order of ``payload`` (a Standard Webhooks envelope for
        the generic provider), with what the topic itself says."""
        provider = self.backend_id.provider
        if provider == "generic" and isinstance(payload, dict) and "data" in payload:
            payload = payload["data"]
        try:
            order = ORDER_MAPPERS[provider](payload)
        except MappingError as err:
            raise UserError(
                _("The order cannot be read: %(error)s", error=err)
            ) from err
        hints = dict(TOPIC_HINTS.get(self.topic, {}))
        if (
            hints.get("financial_status") == "paid"
            and order.financial_status not in UNPAID
        ):
            del hints["financial_status"]
        if (
            hints.get("financial_status") == "refunded"
            and order.financial_status == "partially_refunded"
        ):
            del hints["financial_status"]
        return dataclasses.replace(order, **hints) if hints else order

    def _storefront_import_off(self):
        if self.backend_id.storefront_import_orders:
            return None
        return _(
            "Order import is off for %(backend)s: not imported.",
            backend=self.backend_id.name,
        )

    def _handle_storefront_order(self, payload):
        off = self._storefront_import_off()
        if off:
            return off
        order = self._storefront_canonical(payload)
        sale, summary = self.env["retail.storefront.importer"]._import_order(
            self.backend_id, order, restore=self.topic == "order.restored"
        )
        if sale:
            self._link_document(sale)
        return summary

    def _handle_storefront_order_deleted(self, payload):
        off = self._storefront_import_off()
        if off:
            return off
        if not isinstance(payload, dict) or not payload.get("id"):
            raise UserError(_("The deleted order's payload names no order id."))
        sale, summary = self.env["retail.storefront.importer"]._delete_order(
            self.backend_id, str(payload["id"])[:64]
        )
        if sale:
            self._link_document(sale)
        return summary

    def _handle_storefront_refund(self, payload):
        off = self._storefront_import_off()
        if off:
            return off
        try:
            order_id, refund_id, refunded = shopify_refund(payload)
        except MappingError as err:
            raise UserError(
                _("The refund cannot be read: %(error)s", error=err)
            ) from err
        sale, summary = self.env["retail.storefront.importer"]._record_refund(
            self.backend_id, order_id, refund_id, refunded
        )
        if not sale:
            # The order's own webhook is late: wait for it.
            raise RetryableJobError(
                _("Order %(id)s of this refund is not imported yet.", id=order_id),
                seconds=30,
            )
        self._link_document(sale)
        return summary
