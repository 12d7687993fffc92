from ..adapter import (
    DELETE,
    IMPORT,
    RESTORE,
    Shipped,
    StorefrontAdapter,
    register_adapter,
)
from . import listing
from .client import WooCommerceClient
from .mapper import woocommerce_order, woocommerce_refund, woocommerce_refund_ids


@register_adapter("woocommerce")
class WooCommerceAdapter(StorefrontAdapter):
    """WooCommerce: its ``order.*`` webhooks; through the REST API v3, the
    refunds an order lists, the pull import, stock, prices, product names
    and status, order completion with a tracking note, and webhook
    registration."""

    webhook_topics = {
        "order.created": IMPORT,
        "order.updated": IMPORT,
        "order.restored": RESTORE,
        "order.deleted": DELETE,
    }
    has_api = True
    reads_refunds = True
    credentials = {
        "api_key": "WooCommerce REST API consumer key",
        "api_secret": "WooCommerce REST API consumer secret",
    }
    listing_prefix = listing.PREFIX
    registered_topics = (
        "order.created",
        "order.updated",
        "order.deleted",
        "order.restored",
    )
    sends_endpoint_secret = True

    @classmethod
    def map_order(cls, payload):
        return woocommerce_order(payload)

    @classmethod
    def listed_refunds(cls, payload):
        return woocommerce_refund_ids(payload)

    def refunds(self, order_id):
        return [
            woocommerce_refund(refund, order_id)
            for refund in self.client.refunds(order_id)
        ]

    @classmethod
    def listing_key(cls, product_id, variant_id=None, inventory_item_id=None):
        return listing.listing_key(product_id, variant_id)

    @classmethod
    def parse_listing_key(cls, key):
        return listing.parse_listing_key(key)

    @classmethod
    def product_fields(cls, listing):
        """A variation shows its parent's name: only its status is set."""
        return ("active",) if listing.variant_id else ("name", "active")

    @classmethod
    def make_client(cls, settings):
        return WooCommerceClient(
            settings.shop_url, settings.api_key, settings.api_secret
        )

    def connection_label(self):
        status = self.client.system_status()
        return f"WooCommerce {(status.get('environment') or {}).get('version') or '?'}"

    def orders_since(self, since):
        return self.client.orders_since(since)

    def order(self, external_id):
        return self.client.order(external_id)

    def channel_items(self, location, skus=None):
        if skus is None:
            return self.client.catalogue()
        return self.client.products_by_sku(skus)

    def push(self, location, kind, items):
        return self.client.batch_update(
            [self._update(lst, value, kind) for lst, value in items]
        )

    @classmethod
    def _update(cls, listing, value, kind):
        """(parent id or None, values) of one product or variation."""
        variation = listing.variant_id
        values = {"id": int(variation or listing.product_id)}
        if kind == "stock":
            values.update(manage_stock=True, stock_quantity=value)
        elif kind == "price":
            values["regular_price"] = value
        else:
            name, active = value
            if "name" in cls.product_fields(listing):
                values["name"] = name
            hidden = "private" if variation else "draft"
            values["status"] = "publish" if active else hidden
        return (listing.product_id if variation else None), values

    def ship(self, shipments):
        """Status completed, in one batch, then the tracking note, which is
        not added again if a retry finds it there."""
        refused = self.client.complete_orders([s.order_id for s in shipments])
        for index, shipment in enumerate(shipments):
            if index in refused:
                yield index, Shipped(refused=refused[index], status=422)
                continue
            self.client.add_order_note(shipment.order_id, shipment.note)
            yield index, Shipped()

    def create_product(self, product):
        return self.client.create_product(product)

    def mark_delivered(self, order_id, tracking_numbers):
        """WooCommerce has no delivered status: a note to the customer, not
        added again if a retry finds it there."""
        numbers = ", ".join(tracking_numbers)
        note = f"Delivered ({numbers})." if numbers else "Delivered."
        self.client.add_order_note(order_id, note)
        return f"Order {order_id}: delivery note added."

    def register_webhooks(self, url, secret, name):
        """Of the webhooks of the same topic and URL, one is kept (an active
        one if any), given ``secret`` (WooCommerce never shows a webhook's
        secret: registering again is how a rotated one reaches it) and set
        active again if it was paused or disabled; the others are
        duplicates."""
        hooks = list(self.client.webhooks())
        existing = {}
        for hook in hooks:
            key = (hook.get("topic"), hook.get("delivery_url"))
            if key not in existing or hook.get("status") == "active":
                existing[key] = hook
        done = {}
        for topic in self.registered_topics:
            hook = existing.get((topic, url))
            if not hook:
                self.client.create_webhook(f"{name} {topic}", topic, url, secret)
                done[topic] = "registered"
            else:
                self.client.activate_webhook(hook["id"], secret)
                done[topic] = (
                    "present" if hook.get("status") == "active" else "activated"
                )
        kept = {hook["id"] for hook in existing.values()}
        duplicates = {
            hook["id"]
            for hook in hooks
            if hook.get("delivery_url") == url and hook["id"] not in kept
        }
        return (
            done,
            [{"id": hook["id"], "url": hook.get("delivery_url")} for hook in hooks],
            duplicates,
        )

    def delete_webhook(self, hook_id):
        self.client.delete_webhook(hook_id)
