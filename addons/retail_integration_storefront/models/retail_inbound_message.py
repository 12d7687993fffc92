import dataclasses

from odoo import _, api, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.retail_integration.lib.api_errors import ApiError, passes_by_itself
from odoo.addons.retail_integration.lib.parsing import MappingError
from odoo.addons.retail_integration.lib.text import storable

from ..lib.adapter import ADAPTERS, DELETE, IMPORT, REFUND, RESTORE
from ..lib.stripe import (
    STRIPE_PAYMENT_TOPICS,
    STRIPE_PAYOUT_TOPIC,
    StripeClient,
    stripe_payment,
    stripe_payout,
)

# What a topic asks for → the handler that does it.
HANDLERS = {
    IMPORT: "_handle_storefront_order",
    RESTORE: "_handle_storefront_order_restored",
    DELETE: "_handle_storefront_order_deleted",
    REFUND: "_handle_storefront_refund",
}
UNPAID = ("pending", "authorized", "partially_paid")


class RetailInboundMessage(models.Model):
    _inherit = "retail.inbound.message"

    @api.model
    def _aggregate_key(self, topic, payload):
        """A storefront order's webhooks (created, updated, paid, cancelled...)
        are processed one at a time in arrival order, however many drains a
        backend has: keyed by the channel's order id, read from the payload
        alone (the accept path). A refund is not keyed: it may come before
        its order (whose webhook the channel sends again later), and waits
        for it by retrying, as a Stripe payment does; keyed, it would hold
        that order back behind it."""
        actions = {a.webhook_topics.get(topic) for a in ADAPTERS.values()} - {None}
        if not actions or actions == {REFUND} or not isinstance(payload, dict):
            return super()._aggregate_key(topic, payload)
        data = payload.get("data")  # the generic storefront's envelope
        data = data if isinstance(data, dict) else payload
        order_id = data.get("id")
        if isinstance(order_id, bool) or not isinstance(order_id, str | int):
            return super()._aggregate_key(topic, payload)
        return f"order:{storable(str(order_id), 100)}"

    def _webhook_handlers(self):
        """The topics of every registered storefront provider, and the Stripe
        payment events a storefront's Stripe endpoint receives."""
        handlers = super()._webhook_handlers()
        for adapter in ADAPTERS.values():
            for topic, action in adapter.webhook_topics.items():
                handlers[(adapter.key, topic)] = HANDLERS[action]
            for topic in STRIPE_PAYMENT_TOPICS:
                handlers.setdefault((adapter.key, topic), "_handle_stripe_payment")
            handlers.setdefault(
                (adapter.key, STRIPE_PAYOUT_TOPIC), "_handle_stripe_payout"
            )
        return handlers

    def _handle_stripe_payout(self, payload):
        """Stripe's ``payout.paid``: the payout and the transactions it settles,
        matched to the channel's orders and posted, or kept open with an inbox
        item listing what does not match."""
        try:
            payout = stripe_payout(payload)
        except MappingError as err:
            raise UserError(
                _("The payout cannot be read: %(error)s", error=err)
            ) from err
        try:
            backend = self.backend_id
            client = StripeClient(
                backend._get_secret("storefront_stripe_key"),
                backend.storefront_stripe_api_url,
            )
            record, summary = self.env["retail.storefront.payout"]._record(
                backend, payout, lambda: client.payout_lines(payout.external_id)
            )
        except MappingError as err:
            raise UserError(
                _("Stripe's transactions cannot be read: %(error)s", error=err)
            ) from err
        except ApiError as err:
            if passes_by_itself(err):
                raise RetryableJobError(str(err), seconds=60) from err
            raise UserError(
                _(
                    "Stripe refused to list the payout's transactions: %(error)s. "
                    "Check the backend's Stripe Secret Key, then retry.",
                    error=err,
                )
            ) from err
        self._link_document(record)
        return summary

    def _handle_stripe_payment(self, payload):
        """A Stripe ``payment_intent.succeeded`` / ``charge.succeeded`` of a
        channel order (its ``metadata.order_id``, as the WooCommerce Stripe
        gateway sets it): the order is paid through the *stripe* gateway."""
        try:
            payment = stripe_payment(payload)
        except MappingError as err:
            raise UserError(
                _("The payment cannot be read: %(error)s", error=err)
            ) from err
        if not payment.order_external_id:
            return _(
                "Stripe payment %(id)s names no channel order (metadata.order_id): "
                "nothing to do.",
                id=payment.external_id,
            )
        return self._about_an_order(
            payment.order_external_id,
            self.env["retail.storefront.importer"]._record_payment(
                self.backend_id, payment
            ),
        )

    def _about_an_order(self, order_external_id, outcome):
        """The summary of a handler's ``outcome`` (sale order, summary) about
        a channel order; no sale order: the order's own webhook is late, the
        message waits for it."""
        sale, summary = outcome
        if not sale:
            raise RetryableJobError(
                _(
                    "Order %(id)s of this message is not imported yet.",
                    id=order_external_id,
                ),
                seconds=30,
            )
        self._link_document(sale)
        return summary

    def _storefront_canonical(self, payload):
        """The canonical order of ``payload``, with what the topic itself says."""
        adapter = self.backend_id._storefront_adapter()
        try:
            order = adapter.webhook_order(payload)
        except MappingError as err:
            raise UserError(
                _("The order cannot be read: %(error)s", error=err)
            ) from err
        hints = dict(adapter.topic_hints.get(self.topic, {}))
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

    def _handle_storefront_order(self, payload, restore=False):
        off = self._storefront_import_off()
        if off:
            return off
        order = self._storefront_canonical(payload)
        importer = self.env["retail.storefront.importer"]
        sale, summary = importer._import_order(self.backend_id, order, restore=restore)
        if sale:
            self._link_document(sale)
            refunds = self._storefront_listed_refunds(sale, order.external_id, payload)
            summary = " ".join([summary, *refunds])
        return summary

    def _storefront_listed_refunds(self, sale, order_external_id, payload):
        """The refunds the order lists, read from the channel (WooCommerce);
        an outage retries the message."""
        adapter = self.backend_id._storefront_adapter()
        try:
            refund_ids = adapter.listed_refunds(payload)
            return self.env["retail.storefront.importer"]._record_listed_refunds(
                self.backend_id, sale, order_external_id, refund_ids
            )
        except MappingError as err:
            raise UserError(
                _("The refunds cannot be read: %(error)s", error=err)
            ) from err
        except ApiError as err:
            if passes_by_itself(err):
                raise RetryableJobError(str(err), seconds=60) from err
            raise UserError(
                _("The channel refused to list the refunds: %(error)s", error=err)
            ) from err

    def _handle_storefront_order_restored(self, payload):
        return self._handle_storefront_order(payload, restore=True)

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
            refund = self.backend_id._storefront_adapter().map_refund(payload)
        except MappingError as err:
            raise UserError(
                _("The refund cannot be read: %(error)s", error=err)
            ) from err
        return self._about_an_order(
            refund.order_external_id,
            self.env["retail.storefront.importer"]._record_refund(
                self.backend_id, refund
            ),
        )
