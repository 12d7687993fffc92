"""Stripe's payment events (``payment_intent.succeeded``,
``charge.succeeded``) → the channel order they pay."""

from decimal import Decimal
from typing import NamedTuple

from odoo.addons.retail_integration.lib.parsing import (
    MappingError,
    parse_amount,
    parse_object,
    parse_text,
)

STRIPE_PAYMENT_TOPICS = ("payment_intent.succeeded", "charge.succeeded")
# Currencies Stripe counts in whole units (no cents), from its documentation.
ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}


class Payment(NamedTuple):
    """Money a gateway captured for a channel order."""

    order_external_id: str  # empty: the payment names no order
    external_id: str
    amount: Decimal
    currency: str
    gateway: str = "stripe"


def stripe_payment(payload):
    """The :class:`Payment` of a Stripe event (``data.object`` is the payment
    intent or the charge; amounts are in the currency's smallest unit)."""
    event = parse_object(payload, "The event", required=True)
    data = parse_object(event.get("data"), "data", required=True)
    obj = parse_object(data.get("object"), "data.object", required=True)
    currency = parse_text(obj.get("currency"), "currency", required=True, limit=3)
    received = obj.get("amount_received", obj.get("amount"))
    minor = parse_amount(received, "data.object.amount")
    if minor != minor.to_integral_value():
        raise MappingError("data.object.amount must be a whole number of units.")
    amount = minor if currency.lower() in ZERO_DECIMAL else minor / 100
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise MappingError("data.object.metadata must be an object.")
    return Payment(
        parse_text(metadata.get("order_id"), "metadata.order_id", limit=64),
        parse_text(obj.get("id"), "data.object.id", required=True, limit=255),
        amount,
        currency.upper(),
    )
