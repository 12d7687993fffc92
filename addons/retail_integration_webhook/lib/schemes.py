"""Signature schemes of inbound webhooks.

Each scheme checks a request's headers and raw body bytes against the
endpoint's secrets (the current one, and the previous one during a rotation),
and says which delivery and topic it carries. Comparisons are constant-time.
Schemes whose timestamp is signed (Standard Webhooks, Stripe) also bound its
age, so a captured request replays only within the tolerance, where its
delivery id (signed too) makes it a duplicate. The others sign neither a time
nor their delivery id header: a replay may carry a new id, so the endpoint
also refuses a body it already took within a window.

Schemes are registered by key (``register``) where they are defined: a
connector module adds its channel's scheme without editing this one, and the
endpoint's *Signature Scheme* lists every registered scheme.
"""

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from odoo.addons.retail_integration.lib import standard_webhooks, text
from odoo.addons.retail_integration.lib.registry import Registry

from .request import body_digest

# Longest delivery id and topic kept: longer ones are refused, never cut, so
# that two ids sharing their first characters never pass for duplicates.
MAX_DELIVERY_ID = 255
MAX_TOPIC = 128


class Rejected(Exception):
    """The request fails a check: answer ``status`` with ``code`` and ``reason``."""

    def __init__(self, status, code, reason):
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason


@dataclass
class Verified:
    delivery_id: str | None
    topic: str | None
    topic_in_body: bool = False  # the topic is the payload's "type"


@dataclass
class SignedRequest:
    """What a scheme checks: the request as received, and the endpoint's
    secrets (the current one, and the previous one during a rotation)."""

    headers: dict  # lowercase names
    body: bytes
    secrets: list
    now: int = 0  # seconds since the epoch
    tolerance: int = 300  # seconds a signed timestamp may be off
    url: str = ""  # the URL the channel posted to (some schemes sign it)


@dataclass(frozen=True)
class Scheme:
    key: str
    label: str
    verify: Callable  # verify(SignedRequest) -> Verified, or raises Rejected
    signs_timestamp: bool
    # is_ping(headers, form): an unsigned request the channel sends to test
    # the URL, answered 200 and not stored.
    is_ping: Callable | None = field(default=None, compare=False)


SCHEMES = Registry("signature scheme")


def register(key, label, *, signs_timestamp, is_ping=None):
    """Decorator: register ``verify`` as the signature scheme ``key``."""

    def decorate(verify):
        SCHEMES.add(key, Scheme(key, label, verify, signs_timestamp, is_ping))
        return verify

    return decorate


def selection():
    """The registered schemes, for the endpoint's selection field."""
    return [(scheme.key, scheme.label) for scheme in SCHEMES.values()]


def hmac_sha256(secret, body):
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def matches_any(candidates, expected):
    """Constant-time: every candidate is compared with every expected value."""
    matched = False
    for candidate in candidates:
        for value in expected:
            matched |= hmac.compare_digest(candidate.encode(), value.encode())
    return matched


def require_headers(headers, *names):
    values = [headers.get(name) for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if not value]
    if missing:
        raise Rejected(
            401, "missing_signature", f"Missing header(s): {', '.join(missing)}."
        )
    return values


def _check_age(timestamp, now, tolerance):
    try:
        moment = int(timestamp)
    except (TypeError, ValueError) as err:
        raise Rejected(
            400, "invalid_timestamp", "The timestamp is not a number."
        ) from err
    if moment < now - tolerance:
        raise Rejected(401, "stale_timestamp", "The timestamp is too old.")
    if moment > now + tolerance:
        raise Rejected(401, "future_timestamp", "The timestamp is in the future.")


def bad_signature():
    return Rejected(401, "invalid_signature", "The signature does not match.")


@register("standard", "Standard Webhooks", signs_timestamp=True)
def verify_standard(req):
    msg_id, timestamp, signature = require_headers(
        req.headers, "webhook-id", "webhook-timestamp", "webhook-signature"
    )
    if not timestamp.isdigit():
        raise Rejected(400, "invalid_timestamp", "The timestamp is not a number.")
    try:
        valid = standard_webhooks.verify(
            req.secrets, msg_id, int(timestamp), req.body, signature
        )
    except standard_webhooks.InvalidSecret:
        valid = False
    if not valid:
        raise bad_signature()
    _check_age(timestamp, req.now, req.tolerance)
    return Verified(msg_id, None, topic_in_body=True)


def _check_base64_hmac(req, header):
    """The header holds the base64 HMAC-SHA256 of the body (Shopify, WooCommerce)."""
    (signature,) = require_headers(req.headers, header)
    expected = [
        base64.b64encode(hmac_sha256(s, req.body)).decode() for s in req.secrets
    ]
    if not matches_any([signature.strip()], expected):
        raise bad_signature()


@register("shopify", "Shopify", signs_timestamp=False)
def verify_shopify(req):
    _check_base64_hmac(req, "x-shopify-hmac-sha256")
    headers = req.headers
    delivery = headers.get("x-shopify-webhook-id") or headers.get("x-shopify-event-id")
    return Verified(delivery, headers.get("x-shopify-topic"))


def is_woocommerce_ping(headers, form):
    """WooCommerce's unsigned form POST ``webhook_id=<n>`` when a webhook is saved."""
    content_type = headers.get("content-type", "")
    return (
        content_type.startswith("application/x-www-form-urlencoded")
        and not headers.get("x-wc-webhook-signature")
        and set(form) == {"webhook_id"}
        and str(form["webhook_id"]).isdigit()
    )


@register(
    "woocommerce", "WooCommerce", signs_timestamp=False, is_ping=is_woocommerce_ping
)
def verify_woocommerce(req):
    _check_base64_hmac(req, "x-wc-webhook-signature")
    return Verified(
        req.headers.get("x-wc-webhook-delivery-id"),
        req.headers.get("x-wc-webhook-topic"),
    )


@register("stripe", "Stripe-style", signs_timestamp=True)
def verify_stripe(req):
    (header,) = require_headers(req.headers, "stripe-signature")
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [value for key, value in parts if key.strip() == "t"]
    signatures = [value.strip() for key, value in parts if key.strip() == "v1"]
    if len(timestamps) != 1 or not signatures:
        raise Rejected(
            401, "invalid_signature", "The Stripe-Signature header is malformed."
        )
    signed = timestamps[0].encode() + b"." + req.body
    expected = [hmac_sha256(s, signed).hex() for s in req.secrets]
    if not matches_any(signatures, expected):
        raise bad_signature()
    _check_age(timestamps[0], req.now, req.tolerance)
    # Stripe names the event in the body: its "id" is the delivery id.
    return Verified(None, None, topic_in_body=True)


@register("github", "GitHub-style", signs_timestamp=False)
def verify_github(req):
    (signature,) = require_headers(req.headers, "x-hub-signature-256")
    expected = ["sha256=" + hmac_sha256(s, req.body).hex() for s in req.secrets]
    if not matches_any([signature.strip()], expected):
        raise bad_signature()
    headers = req.headers
    return Verified(headers.get("x-github-delivery"), headers.get("x-github-event"))


def message_keys(verified, payload, body):
    """(topic, delivery id) of a verified request, or ``Rejected`` 400.

    They identify the message and decide duplicates, so they are taken
    exactly or refused: never cut, never altered. Without a delivery id,
    the body's digest stands for one.
    """
    topic = verified.topic
    if not topic and verified.topic_in_body:
        topic = payload.get("type")
    if topic is not None and not isinstance(topic, str):
        raise Rejected(400, "invalid_topic", "The event type must be a string.")
    delivery_id = verified.delivery_id
    if not delivery_id and verified.topic_in_body:
        delivery_id = payload.get("id")  # Stripe names its event in the body
        if isinstance(delivery_id, int) and not isinstance(delivery_id, bool):
            delivery_id = str(delivery_id)
        elif delivery_id is not None and not isinstance(delivery_id, str):
            raise Rejected(400, "invalid_delivery_id", "The event id must be a string.")
    for value, code, what, limit in (
        (topic, "invalid_topic", "event type", MAX_TOPIC),
        (delivery_id, "invalid_delivery_id", "delivery id", MAX_DELIVERY_ID),
    ):
        if value and len(value) > limit:
            raise Rejected(400, code, f"The {what} is longer than {limit} characters.")
        if value and not text.is_storable(value):
            raise Rejected(
                400,
                code,
                f"The {what} contains a NUL character or an unpaired surrogate.",
            )
    return topic or "unknown", delivery_id or f"sha256:{body_digest(body)}"


CORRELATION_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._:-]{7,63}")


def echoed_correlation_id(headers):
    """The ``X-Correlation-Id`` a channel sends back, if it is well formed
    (8 to 64 letters, digits and ``._:-``); else None."""
    value = headers.get("x-correlation-id", "").strip()
    return value if CORRELATION_ID.fullmatch(value) else None


def parse_json(body):
    """The JSON object in ``body`` (UTF-8), or ``Rejected`` 400."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise Rejected(400, "invalid_encoding", "The body is not UTF-8.") from err
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError) as err:  # RecursionError: hostile nesting
        raise Rejected(400, "invalid_json", "The body is not valid JSON.") from err
    if not isinstance(payload, dict):
        raise Rejected(400, "invalid_json", "The body is not a JSON object.")
    return text, payload
