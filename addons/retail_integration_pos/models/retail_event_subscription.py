import time

from odoo import _, fields, models

from odoo.addons.retail_integration.lib.api_errors import ApiError
from odoo.addons.retail_integration_outbox.lib import retry, transports
from odoo.addons.retail_integration_outbox.lib.events import excerpt

from ..lib.square_client import SquareClient

SQUARE_INVENTORY = "square_inventory"


class RetailEventSubscription(models.Model):
    _inherit = "retail.event.subscription"

    delivery_mode = fields.Selection(
        selection_add=[(SQUARE_INVENTORY, "Square Inventory API")],
        ondelete={SQUARE_INVENTORY: "cascade"},
    )


@transports.register(SQUARE_INVENTORY)
class SquareInventoryTransport(transports.Transport):
    """Stock levels of the stores' warehouses to Square's Inventory API: a
    physical count per (item variation, location), one BatchChangeInventory
    call per batch. The variation of a product is the one Square named when
    its orders were imported (an external reference of the backend)."""

    def check(self, subscription):
        if subscription.backend_id.provider != "square":
            return _("The Square Inventory API takes a Square backend's events.")
        return None

    def target(self, subscription):
        return f"{subscription.backend_id.pos_api_url}/v2/inventory"

    def deliver(self, subscription, deliveries, session, secrets):
        backend = subscription.backend_id
        locations = {}
        for store in backend.pos_store_ids:
            locations.setdefault(store.warehouse_id.id, []).append(store.code)
        refs = subscription.env["retail.external.ref"].search(
            [
                ("backend_id", "=", backend.id),
                ("res_model", "=", "product.product"),
                ("res_id", "in", deliveries.event_id.mapped("aggregate_id")),
            ]
        )
        variations = {ref.res_id: ref.external_id for ref in refs}
        counts, skipped = [], {}
        for delivery in deliveries:
            event = delivery.event_id
            data = event._envelope(delivery.version)["data"]
            variation = variations.get(event.aggregate_id)
            stores = locations.get((data.get("warehouse") or {}).get("id"), [])
            if event.event_type != "stock.level_changed" or not variation or not stores:
                skipped[delivery.id] = _(
                    "Nothing to send to Square: not a stock level of a product "
                    "Square sells at a store of this backend."
                )
                continue
            for location in stores:
                counts.append((variation, location, data["free_qty"]))
        started = time.monotonic()
        outcome, status = retry.Outcome(retry.DELIVERED, "HTTP 200"), 200
        if counts:
            client = SquareClient(
                backend.pos_api_url, backend._get_secret("api_secret"), session
            )
            try:
                client.physical_counts(
                    counts,
                    f"odoo-{subscription.id}-{deliveries[:1].id}",
                    fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                )
            except ApiError as err:
                outcome = retry.Outcome(retry.RETRY, excerpt(str(err)))
                status = err.status
        latency = int((time.monotonic() - started) * 1000)
        for delivery in deliveries:
            reason = skipped.get(delivery.id)
            yield (
                delivery,
                retry.Outcome(retry.DELIVERED, reason) if reason else outcome,
                {
                    "attempts": delivery.attempts + 1,
                    "last_attempt": fields.Datetime.now(),
                    "last_status_code": None if reason else status,
                    "response_excerpt": excerpt(reason or outcome.reason),
                    "latency_ms": latency,
                },
            )
