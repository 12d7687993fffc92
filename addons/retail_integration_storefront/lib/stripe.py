"""Stripe: its payment events (``payment_intent.succeeded``,
``charge.succeeded``) → the channel order they pay; its ``payout.paid`` and
the balance transactions the payout settles, read from the API."""

from decimal import Decimal
from typing import NamedTuple

import requests

from odoo.addons.retail_integration.lib.api_http import read_json, send
from odoo.addons.retail_integration.lib.parsing import (
    MappingError,
    parse_amount,
    parse_object,
    parse_text,
)

from .payout import BalanceLine, Payout

STRIPE_PAYMENT_TOPICS = ("payment_intent.succeeded", "charge.succeeded")
STRIPE_PAYOUT_TOPIC = "payout.paid"
STRIPE_API = "https://api.stripe.com"
PAGE = 100
MAX_PAGES = 500
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


def _event_object(payload):
    """(``data.object`` of a Stripe event, its currency)."""
    event = parse_object(payload, "The event", required=True)
    data = parse_object(event.get("data"), "data", required=True)
    obj = parse_object(data.get("object"), "data.object", required=True)
    currency = parse_text(obj.get("currency"), "currency", required=True, limit=3)
    return obj, currency


def _units(minor, currency, where, minimum=None):
    """An amount in the currency's smallest unit → in its units."""
    value = parse_amount(minor, where, minimum=minimum)
    if value != value.to_integral_value():
        raise MappingError(f"{where} must be a whole number of units.")
    return value if currency.lower() in ZERO_DECIMAL else value / 100


def stripe_payment(payload):
    """The :class:`Payment` of a Stripe event (``data.object`` is the payment
    intent or the charge; amounts are in the currency's smallest unit)."""
    obj, currency = _event_object(payload)
    received = obj.get("amount_received", obj.get("amount"))
    amount = _units(received, currency, "data.object.amount", minimum=Decimal(0))
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise MappingError("data.object.metadata must be an object.")
    return Payment(
        parse_text(metadata.get("order_id"), "metadata.order_id", limit=64),
        parse_text(obj.get("id"), "data.object.id", required=True, limit=255),
        amount,
        currency.upper(),
    )


def stripe_payout(payload):
    """The :class:`Payout` of a ``payout.paid`` event."""
    obj, currency = _event_object(payload)
    arrival = obj.get("arrival_date") or 0
    if not isinstance(arrival, int) or isinstance(arrival, bool):
        raise MappingError("data.object.arrival_date must be a Unix time.")
    return Payout(
        parse_text(obj.get("id"), "data.object.id", required=True, limit=255),
        _units(obj.get("amount"), currency, "data.object.amount"),
        currency.upper(),
        arrival,
    )


def balance_line(item, index):
    where = f"data[{index}]"
    item = parse_object(item, where, required=True)
    currency = parse_text(item.get("currency"), f"{where}.currency", required=True)
    source = item.get("source")
    metadata = (source.get("metadata") if isinstance(source, dict) else None) or {}
    if not isinstance(metadata, dict):
        raise MappingError(f"{where}.source.metadata must be an object.")
    return BalanceLine(
        parse_text(item.get("id"), f"{where}.id", required=True, limit=255),
        parse_text(item.get("type"), f"{where}.type", limit=64) or "other",
        _units(item.get("amount"), currency, f"{where}.amount"),
        _units(item.get("fee") or 0, currency, f"{where}.fee"),
        _units(item.get("net"), currency, f"{where}.net"),
        parse_text(
            metadata.get("order_id"), f"{where}.source.metadata.order_id", limit=64
        ),
        parse_text(item.get("description"), f"{where}.description", limit=500),
    )


class StripeClient:
    """The few calls of Stripe's API the payouts need."""

    def __init__(self, secret_key, api_url=STRIPE_API, session=None):
        self.url = (api_url or STRIPE_API).rstrip("/")
        self.key = secret_key
        self.session = session or requests.Session()

    def payout_lines(self, payout_id):
        """The balance transactions of ``payout_id`` but the payout itself,
        with their sources (charges and refunds name their order), page after
        page."""
        after = None
        for _page in range(MAX_PAGES):
            params = {"payout": payout_id, "limit": PAGE, "expand[]": "data.source"}
            if after:
                params["starting_after"] = after
            answer = read_json(
                send(
                    self.session,
                    "GET",
                    f"{self.url}/v1/balance_transactions",
                    params=params,
                    headers={"Authorization": f"Bearer {self.key}"},
                )
            )
            items = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(items, list):
                raise MappingError("Stripe answered without a list of transactions.")
            for index, item in enumerate(items):
                line = balance_line(item, index)
                if line.kind != "payout":
                    yield line
            if not answer.get("has_more") or not items:
                return
            after = items[-1].get("id")
