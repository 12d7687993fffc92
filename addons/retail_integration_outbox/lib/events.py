"""Canonical outbox events: type codes, aggregate keys and the body.

The body a receiver gets is the canonical JSON (sorted keys, no spaces) of::

    {"id": <event uuid>, "type": "order.confirmed", "version": 1,
     "occurred_at": "2024-11-27T10:00:00Z", "company": <company id>,
     "correlation_id": "...", "aggregate": {"model": ..., "id": ..., "key": ...,
     "sequence": n}, "data": {...}}
"""

import hashlib
import json

from odoo.addons.retail_integration.lib import text

# The version an event type builds when it lists none (see
# retail.outbox.event.version): every type's first contract.
PAYLOAD_VERSION = 1

# The codes of this module's event types (data/retail_outbox_event_type_data.xml).
ORDER_CONFIRMED = "order.confirmed"
ORDER_CANCELLED = "order.cancelled"
INVOICE_PAID = "invoice.paid"
STOCK_LEVEL_CHANGED = "stock.level_changed"
SHIPMENT_DISPATCHED = "shipment.dispatched"
PRODUCT_CHANGED = "product.changed"
PRICE_CHANGED = "price.changed"


def aggregate_key(model, res_id, scope=None):
    """``sale.order,7`` or, for a value per scope,
    ``product.product,7@stock.warehouse,1``."""
    key = f"{model},{res_id}"
    if scope:
        key += f"@{scope[0]},{scope[1]}"
    return key


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
    version=PAYLOAD_VERSION,
):
    return {
        "id": uuid,
        "type": event_type,
        "version": version,
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
