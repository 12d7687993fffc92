from odoo.addons.retail_integration.lib.api_errors import ApiError, passes_by_itself

from ..adapter import IMPORT, REFUND, Shipped, StorefrontAdapter, register_adapter
from . import listing
from .client import ShopifyClient
from .mapper import shopify_order, shopify_refund

DEFAULT_API_VERSION = "2025-01"


@register_adapter("shopify")
class ShopifyAdapter(StorefrontAdapter):
    """Shopify: its ``orders/*`` and ``refunds/create`` webhooks; through the
    GraphQL Admin API, the pull import, stock at one of the shop's locations,
    prices, product names and status, fulfilments and webhook registration."""

    webhook_topics = {
        "orders/create": IMPORT,
        "orders/updated": IMPORT,
        "orders/paid": IMPORT,
        "orders/cancelled": IMPORT,
        "refunds/create": REFUND,
    }
    topic_hints = {
        "orders/paid": {"financial_status": "paid"},
        "orders/cancelled": {"status": "cancelled"},
    }
    has_api = True
    has_payouts = True
    has_price_lists = True
    credentials = {"api_secret": "Shopify Admin API access token"}
    has_api_version = True
    has_locations = True
    listing_prefix = listing.PREFIX
    registered_topics = (
        "ORDERS_CREATE",
        "ORDERS_UPDATED",
        "ORDERS_PAID",
        "ORDERS_CANCELLED",
        "REFUNDS_CREATE",
    )

    @classmethod
    def map_order(cls, payload):
        return shopify_order(payload)

    @classmethod
    def map_refund(cls, payload):
        return shopify_refund(payload)

    @classmethod
    def listing_key(cls, product_id, variant_id=None, inventory_item_id=None):
        return listing.listing_key(product_id, variant_id, inventory_item_id)

    @classmethod
    def parse_listing_key(cls, key):
        return listing.parse_listing_key(key)

    @classmethod
    def make_client(cls, settings):
        return ShopifyClient(
            settings.shop_url,
            settings.api_secret,
            settings.api_version or DEFAULT_API_VERSION,
        )

    def connection_label(self):
        return f"Shopify shop {self.client.shop_name()}"

    def primary_location(self):
        return self.client.primary_location()

    def orders_since(self, since):
        return self.client.orders_since(since)

    def order(self, external_id):
        return self.client.order(external_id)

    def channel_items(self, location, skus=None):
        return self.client.variants(location, skus)

    def push(self, location, kind, items):
        if kind == "stock":
            return self.client.set_available(
                location, [(lst.inventory_item_id, value) for lst, value in items]
            )
        if kind == "price":
            return self.client.update_prices(
                [(lst.product_id, lst.variant_id, value) for lst, value in items]
            )
        return self.client.update_products(
            [(lst.product_id, value[0], value[1]) for lst, value in items]
        )

    def push_price_list(self, price_list, currency, items):
        return self.client.set_price_list_prices(
            price_list, currency, [(lst.variant_id, price) for lst, price in items]
        )

    def ship(self, shipments):
        """One fulfilment per location of each order, with carrier and tracking."""
        for index, shipment in enumerate(shipments):
            tracking = {
                "company": shipment.carrier,
                "number": shipment.tracking_ref,
                "url": shipment.tracking_url,
            }
            try:
                fulfilments = self.client.fulfil(
                    shipment.order_id, list(shipment.lines), tracking
                )
            except ApiError as err:
                if passes_by_itself(err):
                    raise
                yield index, Shipped(refused=str(err), status=err.status)
                continue
            yield index, Shipped(fulfilments=tuple(fulfilments))

    def create_product(self, product):
        return self.client.create_product(product)

    def mark_delivered(self, order_id, tracking_numbers):
        marked = self.client.mark_delivered(order_id, tracking_numbers)
        if not marked:
            return f"Order {order_id}: no fulfilment left to mark delivered."
        return f"Fulfilment(s) {', '.join(marked)} marked delivered."

    def register_webhooks(self, url, secret, name):
        """Shopify refuses a topic already sent to ``url``: it is present."""
        done = {
            topic: "registered" if self.client.create_webhook(topic, url) else "present"
            for topic in self.registered_topics
        }
        hooks = [
            {"id": hook["id"], "url": hook["url"]} for hook in self.client.webhooks()
        ]
        return done, hooks, set()

    def delete_webhook(self, hook_id):
        self.client.delete_webhook(hook_id)
