"""Canonical outbox events: types, aggregate keys, coalescing and the body.

The body a receiver gets is the canonical JSON (sorted keys, no spaces) of::

    {"id": <event uuid>, "type": "order.confirmed", "version": 1,
     "occurred_at": "2024-11-27T10:00:00Z", "company": <company id>,
     "correlation_id": "...", "aggregate": {"model": ..., "id": ..., "key": ...,
     "sequence": n}, "data": {...}}
"""

import hashlib
import json

from odoo.addons.retail_integration.lib import text

PAYLOAD_VERSION = 1

ORDER_CONFIRMED = "order.confirmed"
ORDER_CANCELLED = "order.cancelled"
INVOICE_PAID = "invoice.paid"
STOCK_LEVEL_CHANGED = "stock.level_changed"
SHIPMENT_DISPATCHED = "shipment.dispatched"
PRODUCT_CHANGED = "product.changed"
PRICE_CHANGED = "price.changed"

EVENT_TYPES = (
    ORDER_CONFIRMED,
    ORDER_CANCELLED,
    INVOICE_PAID,
    STOCK_LEVEL_CHANGED,
    SHIPMENT_DISPATCHED,
    PRODUCT_CHANGED,
    PRICE_CHANGED,
)

# State events: only the latest value matters, so a pending delivery is
# replaced by a newer event of the same aggregate instead of queueing both.
COALESCED_TYPES = frozenset({STOCK_LEVEL_CHANGED, PRICE_CHANGED})

# Events that report a state rather than a step: one whose data equals the
# last one of its aggregate alters nothing a channel sees and is not recorded.
STATE_TYPES = frozenset({STOCK_LEVEL_CHANGED, PRICE_CHANGED, PRODUCT_CHANGED})


def aggregate_key(model, res_id, scope=None):
    """``sale.order,7`` or, for a value per scope,
    ``product.product,7@stock.warehouse,1``."""
    key = f"{model},{res_id}"
    if scope:
        key += f"@{scope[0]},{scope[1]}"
    return key


def coalesces(event_type):
    return event_type in COALESCED_TYPES


def canonical_json(value):
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def digest(data):
    return hashlib.sha256(canonical_json(data)).hexdigest()


def envelope(
    *,
    uuid,
    event_type,
    occurred_at,
    company_id,
    correlation_id,
    model,
    res_id,
    key,
    sequence,
    data,
):
    return {
        "id": uuid,
        "type": event_type,
        "version": PAYLOAD_VERSION,
        "occurred_at": occurred_at,
        "company": company_id,
        "correlation_id": correlation_id,
        "aggregate": {"model": model, "id": res_id, "key": key, "sequence": sequence},
        "data": data,
    }


def excerpt(value, limit=500, encoding=None):
    """``value`` (text, or bytes in ``encoding``: a receiver's answer, a
    header, an error) as text any column takes (``text.storable``),
    stripped, cut to ``limit`` characters."""
    if isinstance(value, bytes):
        # A character is at most 4 bytes in UTF-8: the rest is never shown.
        value = text.decode(value[: 4 * (limit + 1)], encoding)
    return text.storable(str(value or "").strip(), limit)
