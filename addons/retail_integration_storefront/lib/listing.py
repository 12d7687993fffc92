"""Where an Odoo product is sold on a channel, kept as one external reference
of the product per backend, and the value a channel is given.

The key holds every id the outbound calls need, so one index lookup of the
core's ``retail.external.ref`` finds them; each provider's adapter writes and
reads its own keys, which start with its ``listing_prefix``:

- Shopify ``shopify:<product id>/<variant id>/<inventory item id>``
- WooCommerce ``woo:<product id>/<variation id>`` (``0``: a simple product)

Order imports bind other ids of the same product (the channel's variant id,
``sku:<SKU>``); those are left alone.
"""

import math
from collections import namedtuple

from .adapter import ADAPTERS

Listing = namedtuple("Listing", "provider product_id variant_id inventory_item_id")


def listing_key(provider, product_id, variant_id=None, inventory_item_id=None):
    return ADAPTERS[provider].listing_key(product_id, variant_id, inventory_item_id)


def parse_listing(external_id):
    """The Listing of a key, or None if ``external_id`` is not one."""
    text = external_id or ""
    for adapter in ADAPTERS.values():
        if adapter.listing_prefix and text.startswith(adapter.listing_prefix):
            return adapter.parse_listing_key(text)
    return None


def product_fields(listing):
    """The fields of the channel item ``listing`` that a product push sets."""
    return ADAPTERS[listing.provider].product_fields(listing)


def published_quantity(free_qty, safety_buffer):
    """What the channel may sell: the free quantity less the buffer, whole
    units, never below zero."""
    return max(0, math.floor((free_qty or 0.0) - (safety_buffer or 0.0) + 1e-9))


def format_price(price, digits=2):
    return f"{float(price or 0.0):.{digits}f}"


def differences(items, wanted):
    """What to push so the channel matches Odoo.

    ``items``: channel items (``key``, ``stock``, ``price``, ``name``,
    ``active``); ``wanted``: {key: {"stock": int, "price": "12.50", "name":
    text, "active": bool}} for the items Odoo knows (a field left out is not
    compared). Returns ``[(key, field, channel value, Odoo value)]``; a stock
    the channel does not track counts as different; names are compared
    without their surrounding spaces.
    """
    changes = []
    for item in items:
        target = wanted.get(item["key"])
        if not target:
            continue
        if "stock" in target:
            current = item.get("stock")
            if current is None or int(current) != int(target["stock"]):
                changes.append((item["key"], "stock", current, target["stock"]))
        if "price" in target:
            current = item.get("price")
            try:
                same = (
                    current is not None
                    and abs(float(current) - float(target["price"])) < 1e-6
                )
            except ValueError:
                same = False
            if not same:
                changes.append((item["key"], "price", current, target["price"]))
        if "name" in target:
            current = item.get("name")
            if (current or "").strip() != (target["name"] or "").strip():
                changes.append((item["key"], "name", current, target["name"]))
        if "active" in target:
            current = item.get("active")
            if bool(current) != bool(target["active"]):
                changes.append((item["key"], "active", current, target["active"]))
    return changes
