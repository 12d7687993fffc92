"""WooCommerce listing keys ``woo:<product id>/<variation id>`` (``0``: a
simple product), and the channel item of a product or variation."""

import html

from ..listing import Listing

PREFIX = "woo:"


def listing_key(product_id, variant_id=None):
    return f"{PREFIX}{product_id}/{variant_id or 0}"


def parse_listing_key(key):
    parts = key.removeprefix(PREFIX).split("/")
    if key.startswith(PREFIX) and len(parts) == 2 and all(parts):
        variation = None if parts[1] == "0" else parts[1]
        return Listing("woocommerce", parts[0], variation, None)
    return None


def woo_item(product, parent=None):
    """A channel item of a WooCommerce product or variation."""
    parent_id = product.get("parent_id") or None
    stock = product.get("stock_quantity") if product.get("manage_stock") else None
    return {
        "sku": product.get("sku") or "",
        "key": listing_key(
            parent_id or product.get("id"),
            product.get("id") if parent_id else None,
        ),
        "stock": stock,
        "price": product.get("regular_price") or product.get("price"),
        # WordPress stores titles HTML-escaped ("&amp;") for most API users.
        "name": html.unescape(
            (parent or product).get("name") or product.get("name") or ""
        ),
        "active": product.get("status", "publish") == "publish",
    }
