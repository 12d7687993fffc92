from odoo import _, api, models
from odoo.exceptions import UserError

from odoo.addons.retail_integration.lib.text import storable

from ..lib.shipping import PROVIDERS

# The tracking topics of each provider (EasyPost: the event's description;
# the generic JSON carrier: the Standard Webhooks type).
TRACKING_TOPICS = {
    "easypost": ("tracker.updated", "tracker.created"),
    "carrier_json": ("shipment.tracking",),
}


class RetailInboundMessage(models.Model):
    _inherit = "retail.inbound.message"

    @api.model
    def _aggregate_key(self, topic, payload):
        """A shipment's tracking webhooks are processed one at a time, keyed
        by its tracking number: a backend's drains never wait on one
        shipment's lock. Read from the payload alone (the accept path); a
        payload the provider cannot read is keyed by nothing, and fails in
        its handler."""
        for provider, topics in TRACKING_TOPICS.items():
            if topic in topics:
                try:
                    update = PROVIDERS[provider].tracking_update(payload)
                except (AttributeError, TypeError, ValueError):
                    update = None  # the accept path never refuses a payload
                if update:
                    return f"tracking:{storable(update.tracking_number, 100)}"
        return super()._aggregate_key(topic, payload)

    def _webhook_handlers(self):
        handlers = super()._webhook_handlers()
        for provider, topics in TRACKING_TOPICS.items():
            for topic in topics:
                handlers[(provider, topic)] = "_handle_carrier_tracking"
        return handlers

    def _handle_carrier_tracking(self, payload):
        backend = self.backend_id
        update = PROVIDERS[backend.provider].tracking_update(payload)
        if update is None:
            raise UserError(
                _("The tracking webhook names no tracker or tracking number.")
            )
        shipment = self.env["retail.carrier.shipment"]._find_tracked(backend, update)
        if not shipment:
            return _(
                "No shipment of %(backend)s has the tracking number %(number)s: "
                "not ours, or from before the connector.",
                backend=backend.name,
                number=update.tracking_number,
            )
        changed, added = shipment._apply_tracking(update)
        self._link_document(shipment.picking_id)
        if changed:
            return _(
                "%(number)s is now %(status)s (%(added)s new tracking events).",
                number=update.tracking_number,
                status=changed,
                added=added,
            )
        return _(
            "%(number)s: %(added)s new tracking events, status unchanged.",
            number=update.tracking_number,
            added=added,
        )
