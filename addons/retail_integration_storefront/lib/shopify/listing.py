"""Shopify listing keys ``shopify:<product id>/<variant id>/<inventory item
id>``, and the channel item of a variant."""

from ..listing import Listing

PREFIX = "shopify:"


def listing_key(product_id, variant_id=None, inventory_item_id=None):
    return f"{PREFIX}{product_id}/{variant_id}/{inventory_item_id}"


def parse_listing_key(key):
    parts = key.removeprefix(PREFIX).split("/")
    if key.startswith(PREFIX) and len(parts) == 3 and all(parts):
        return Listing("shopify", parts[0], parts[1], parts[2])
    return None


def shopify_item(node):
    """A channel item (the connector's view of a sellable variant)."""
    product = node.get("product") or {}
    item = node.get("inventoryItem") or {}
    level = item.get("inventoryLevel") or {}
    available = None
    for quantity in level.get("quantities") or []:
        if quantity.get("name") == "available":
            available = quantity.get("quantity")
    return {
        "sku": node.get("sku") or "",
        "key": listing_key(
            product.get("legacyResourceId"),
            node.get("legacyResourceId"),
            item.get("legacyResourceId"),
        ),
        "stock": available,
        "price": node.get("price"),
        "name": product.get("title"),
        "active": product.get("status") == "ACTIVE",
    }
