import time

from odoo import fields, models

from odoo.addons.retail_integration.lib.api_errors import ApiError, Throttled
from odoo.addons.retail_integration.lib.parsing import MappingError
from odoo.addons.retail_integration_outbox.lib import retry, ssrf, transports
from odoo.addons.retail_integration_outbox.lib.events import excerpt

from ..lib.square_client import SquareClient

SQUARE_INVENTORY = "square_inventory"
SQUARE_CATALOG = "square_catalog"
CATALOG_EVENTS = ("product.changed", "price.changed")


def _failure(err):
    """The outcome of a Square call that failed: retried later; after a 429
    not before Square's Retry-After, and without counting against the
    circuit (Square pacing us is not Square failing)."""
    if isinstance(err, Throttled):
        return retry.Outcome(
            retry.RETRY,
            excerpt(str(err)),
            retry_after=err.retry_after,
            counts_for_circuit=False,
        )
    return retry.Outcome(retry.RETRY, excerpt(str(err)))


class RetailEventSubscription(models.Model):
    _inherit = "retail.event.subscription"

    delivery_mode = fields.Selection(
        selection_add=[
            (SQUARE_INVENTORY, "Square Inventory API"),
            (SQUARE_CATALOG, "Square Catalog API"),
        ],
        ondelete={SQUARE_INVENTORY: "cascade", SQUARE_CATALOG: "cascade"},
    )


class SquareTransport(transports.Transport):
    """What both Square transports share: a Square backend's events only,
    sent to ``path`` of its API in one call per batch (``_prepare``), each
    delivery recorded with that call's outcome, or as skipped."""

    api_label = ""  # the API's name, as the delivery mode shows it
    path = ""

    def check(self, subscription):
        if subscription.backend_id.provider != "square":
            return subscription.env._(
                "The %(api)s takes a Square backend's events.", api=self.api_label
            )
        return None

    def target(self, subscription):
        return f"{subscription.backend_id.pos_api_url}{self.path}"

    def _prepare(self, subscription, deliveries):
        """({delivery id: why nothing is sent for it}, the call sending the
        others: a function of a ``SquareClient``, or None)."""
        raise NotImplementedError

    def deliver(self, subscription, deliveries, session, secrets):
        backend = subscription.backend_id
        skipped, send = self._prepare(subscription, deliveries)
        started = time.monotonic()
        outcome, status = retry.Outcome(retry.DELIVERED, "HTTP 200"), 200
        if send:
            client = SquareClient(
                backend.pos_api_url, backend._get_secret("api_secret"), session
            )
            try:
                send(client)
            except (ApiError, MappingError, ssrf.UnsafeURL) as err:
                outcome = _failure(err)
                status = getattr(err, "status", 502)
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


@transports.register(SQUARE_INVENTORY)
class SquareInventoryTransport(SquareTransport):
    """Stock levels of the stores' warehouses to Square's Inventory API: a
    physical count per (item variation, location), one BatchChangeInventory
    call per batch. The variation of a product is the one Square named when
    its orders were imported (an external reference of the backend)."""

    api_label = "Square Inventory API"
    path = "/v2/inventory"

    def _prepare(self, subscription, deliveries):
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
                skipped[delivery.id] = subscription.env._(
                    "Nothing to send to Square: not a stock level of a product "
                    "Square sells at a store of this backend."
                )
                continue
            for location in stores:
                counts.append((variation, location, data["free_qty"]))
        if not counts:
            return skipped, None
        return skipped, lambda client: client.physical_counts(
            counts,
            f"odoo-{subscription.id}-{deliveries[:1].id}",
            fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        )


@transports.register(SQUARE_CATALOG)
class SquareCatalogTransport(SquareTransport):
    """New and changed products and their prices to Square's Catalog API: a
    batch's products (each once, however many of its events the batch holds)
    in BatchUpsertCatalogObjects calls, an ITEM with its ITEM_VARIATION
    per product, priced per store (``retail.backend._pos_square_push_catalog``)."""

    api_label = "Square Catalog API"
    path = "/v2/catalog"

    def _prepare(self, subscription, deliveries):
        backend = subscription.backend_id
        Product = subscription.env["product.product"].with_context(active_test=False)
        # Each product once, however many of its events the batch holds.
        products = Product.browse(
            set(
                deliveries.event_id.filtered(
                    lambda e: e.aggregate_model == "product.product"
                ).mapped("aggregate_id")
            )
        ).exists()
        sent = products.filtered(lambda p: p.active and p.default_code)
        skipped = {}
        for delivery in deliveries:
            event = delivery.event_id
            if event.event_type not in CATALOG_EVENTS or (
                event.aggregate_model != "product.product"
            ):
                skipped[delivery.id] = subscription.env._(
                    "Nothing to send to Square's catalog."
                )
            elif event.aggregate_id not in sent.ids:
                skipped[delivery.id] = subscription.env._(
                    "Not sent to Square: the product is archived, deleted or "
                    "has no SKU (Internal Reference)."
                )
        if not sent:
            return skipped, None
        return skipped, lambda client: backend._pos_square_push_catalog(sent, client)
