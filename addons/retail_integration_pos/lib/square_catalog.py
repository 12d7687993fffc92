"""Odoo products as Square catalog objects (plain Python).

From Square's public Catalog API reference:
- an ``ITEM`` has ``item_data.name`` and ``item_data.variations`` (nested
  ``ITEM_VARIATION`` objects); an ``ITEM_VARIATION`` has
  ``item_variation_data`` with ``item_id``, ``sku``, ``pricing_type``
  (``FIXED_PRICING``), ``price_money`` and ``location_overrides`` (each with
  ``location_id`` and an optional ``price_money``: the price at that location);
- every object has a ``version``: an update names the version it changes
  (an older one is refused with ``VERSION_MISMATCH``); a new object has an
  id starting with ``#``, replaced by Square's (``id_mappings`` of the
  BatchUpsertCatalogObjects answer);
- an ITEM upserted with its ``variations`` replaces its variations: an
  update carries the item's variations as Square returned them, ours changed;
- ``present_at_all_locations`` / ``present_at_location_ids``: where an
  object is sold.

One Odoo product (``product.product``) is one ITEM with one ITEM_VARIATION
(its SKU). Its price is the backend's pricelist's; a store with a pricelist
of its own gets its price as the location override of its location.
"""

import copy
import hashlib
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from odoo.addons.retail_integration.lib.parsing import MappingError

from .square import ZERO_DECIMAL_CURRENCIES

ITEM = "ITEM"
VARIATION = "ITEM_VARIATION"


@dataclass(frozen=True)
class CatalogProduct:
    """What Square shows of a product."""

    product_id: int
    name: str
    sku: str
    price: Decimal  # at the backend's pricelist
    currency: str
    # {location id: (price, currency)} of the stores with a pricelist of their own
    location_prices: dict = field(default_factory=dict)
    # the backend's store locations: where a new item is sold
    locations: tuple = ()

    @property
    def item_ref(self):
        return f"#item-{self.product_id}"

    @property
    def variation_ref(self):
        return f"#variation-{self.product_id}"


def money(amount, currency):
    """Square's Money: an integer in the currency's smallest unit."""
    digits = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    units = Decimal(str(amount)).scaleb(digits)
    return {
        "amount": int(units.quantize(Decimal(1), rounding=ROUND_HALF_UP)),
        "currency": currency,
    }


def _overrides(product, existing):
    """The variation's location overrides: ours priced, the others' kept as
    Square has them."""
    ours = set(product.locations) | set(product.location_prices)
    kept = []
    for override in existing or []:
        if not isinstance(override, dict):
            continue
        override = dict(override)
        if override.get("location_id") in ours:
            override.pop("price_money", None)
            override.pop("pricing_type", None)
        kept.append(override)
    by_location = {o.get("location_id"): o for o in kept}
    for location, (price, currency) in sorted(product.location_prices.items()):
        override = by_location.get(location)
        if override is None:
            override = by_location[location] = {"location_id": location}
            kept.append(override)
        override["pricing_type"] = "FIXED_PRICING"
        override["price_money"] = money(price, currency)
    # An override with nothing left to say is dropped.
    return [o for o in kept if set(o) - {"location_id"}]


def _variation_data(product, data, item_id):
    data = dict(data or {})
    data.update(
        {
            "item_id": item_id,
            "name": data.get("name") or product.name,
            "sku": product.sku,
            "pricing_type": "FIXED_PRICING",
            "price_money": money(product.price, product.currency),
        }
    )
    overrides = _overrides(product, data.get("location_overrides"))
    if overrides:
        data["location_overrides"] = overrides
    else:
        data.pop("location_overrides", None)
    return data


def _presence(product):
    if not product.locations:
        return {"present_at_all_locations": True}
    return {
        "present_at_all_locations": False,
        "present_at_location_ids": sorted(product.locations),
    }


def new_item(product):
    """The ITEM (with its variation) that creates ``product`` in Square."""
    variation = {
        "type": VARIATION,
        "id": product.variation_ref,
        **_presence(product),
        "item_variation_data": _variation_data(product, {}, product.item_ref),
    }
    return {
        "type": ITEM,
        "id": product.item_ref,
        **_presence(product),
        "item_data": {"name": product.name, "variations": [variation]},
    }


def _present_at_ours(obj, product):
    """An object sold at some locations only is sold at the backend's stores
    too (a store added since it was created)."""
    if obj.get("present_at_all_locations", True) or not product.locations:
        return
    present = set(obj.get("present_at_location_ids") or [])
    obj["present_at_location_ids"] = sorted(present | set(product.locations))


def updated_objects(product, variation, item=None):
    """The objects that bring ``variation`` (and its ``item``, when Square
    returned it) to ``product``'s name, SKU and prices, at the versions
    Square returned: ``[item]`` (its variations, ours changed) or
    ``[variation]``."""
    variation = copy.deepcopy(variation)
    item_id = (variation.get("item_variation_data") or {}).get("item_id")
    variation["item_variation_data"] = _variation_data(
        product, variation.get("item_variation_data"), item_id
    )
    _present_at_ours(variation, product)
    if not item or item.get("id") != item_id:
        return [variation]
    item = copy.deepcopy(item)
    _present_at_ours(item, product)
    data = item.setdefault("item_data", {})
    data["name"] = product.name
    variations = [v for v in data.get("variations") or [] if isinstance(v, dict)]
    for index, nested in enumerate(variations):
        if nested.get("id") == variation["id"]:
            variations[index] = variation
            break
    else:
        variations.append(variation)
    data["variations"] = variations
    return [item]


def objects_of(answer, key, where):
    """The catalog objects of ``answer[key]`` (a list of objects with an id),
    or a MappingError saying what Square answered instead."""
    if not isinstance(answer, dict):
        raise MappingError(f"{where}: the answer is not a JSON object.")
    objects = answer.get(key) or []
    if not isinstance(objects, list) or not all(
        isinstance(o, dict) and isinstance(o.get("id"), str) and o["id"]
        for o in objects
    ):
        raise MappingError(f"{where}: {key} is not a list of catalog objects.")
    return objects


def id_mappings(answer):
    """{client object id: Square's id} of a BatchUpsertCatalogObjects answer."""
    mappings = answer.get("id_mappings") or [] if isinstance(answer, dict) else None
    if not isinstance(mappings, list) or not all(
        isinstance(m, dict)
        and isinstance(m.get("client_object_id"), str)
        and isinstance(m.get("object_id"), str)
        and m["object_id"]
        for m in mappings
    ):
        raise MappingError("BatchUpsertCatalogObjects: id_mappings are malformed.")
    return {m["client_object_id"]: m["object_id"] for m in mappings}


def created(batches):
    """What a request creating ``batches`` creates: the temporary ids and
    SKUs of its objects. Its key is made of them, so that a retry that
    Square's search cannot match yet keeps the key even if a price changed
    meanwhile: Square then refuses it (``IDEMPOTENCY_KEY_REUSED``) instead of
    creating the items twice, and a later retry finds them by SKU."""
    return [
        [
            (obj.get("id"), (obj.get("item_variation_data") or {}).get("sku"))
            for item in batch
            for obj in [item, *(item.get("item_data") or {}).get("variations", [])]
        ]
        for batch in batches
    ]


def idempotency_key(prefix, batches):
    """The same key for the same request (a retry after a lost answer is
    the call Square already made), another for any other: at most 128
    characters, as Square takes."""
    digest = hashlib.sha256(
        json.dumps(batches, sort_keys=True, default=str).encode()
    ).hexdigest()
    return f"{prefix}-{digest}"[:128]
