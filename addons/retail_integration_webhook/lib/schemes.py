"""Signature schemes of inbound webhooks.

Each scheme checks a request's headers and raw body bytes against the
endpoint's secrets (the current one, and the previous one during a rotation),
and says which delivery and topic it carries. Comparisons are constant-time.
Schemes whose timestamp is signed (Standard Webhooks, Stripe) also bound its
age, so a captured request replays only within the tolerance, where its
delivery id (signed too) makes it a duplicate. The others sign neither a time
nor their delivery id header: a replay may carry a new id, so the endpoint
also refuses a body it already took within a window (``SIGNS_NO_TIMESTAMP``).
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from odoo.addons.retail_integration.lib import standard_webhooks, text

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


def _hmac_sha256(secret, body):
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def _matches(candidates, expected):
    """Constant-time: every candidate is compared with every expected value."""
    matched = False
    for candidate in candidates:
        for value in expected:
            matched |= hmac.compare_digest(candidate.encode(), value.encode())
    return matched


def _require(headers, *names):
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


def _bad_signature():
    return Rejected(401, "invalid_signature", "The signature does not match.")


def verify_standard(headers, body, secrets, now, tolerance):
    msg_id, timestamp, signature = _require(
        headers, "webhook-id", "webhook-timestamp", "webhook-signature"
    )
    if not timestamp.isdigit():
        raise Rejected(400, "invalid_timestamp", "The timestamp is not a number.")
    try:
        valid = standard_webhooks.verify(
            secrets, msg_id, int(timestamp), body, signature
        )
    except standard_webhooks.InvalidSecret:
        valid = False
    if not valid:
        raise _bad_signature()
    _check_age(timestamp, now, tolerance)
    return Verified(msg_id, None, topic_in_body=True)


def verify_shopify(headers, body, secrets, now, tolerance):
    (signature,) = _require(headers, "x-shopify-hmac-sha256")
    expected = [base64.b64encode(_hmac_sha256(s, body)).decode() for s in secrets]
    if not _matches([signature.strip()], expected):
        raise _bad_signature()
    delivery = headers.get("x-shopify-webhook-id") or headers.get("x-shopify-event-id")
    return Verified(delivery, headers.get("x-shopify-topic"))


def verify_woocommerce(headers, body, secrets, now, tolerance):
    (signature,) = _require(headers, "x-wc-webhook-signature")
    expected = [base64.b64encode(_hmac_sha256(s, body)).decode() for s in secrets]
    if not _matches([signature.strip()], expected):
        raise _bad_signature()
    return Verified(
        headers.get("x-wc-webhook-delivery-id"), headers.get("x-wc-webhook-topic")
    )


def verify_stripe(headers, body, secrets, now, tolerance):
    (header,) = _require(headers, "stripe-signature")
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [value for key, value in parts if key.strip() == "t"]
    signatures = [value.strip() for key, value in parts if key.strip() == "v1"]
    if len(timestamps) != 1 or not signatures:
        raise Rejected(
            401, "invalid_signature", "The Stripe-Signature header is malformed."
        )
    signed = timestamps[0].encode() + b"." + body
    expected = [_hmac_sha256(s, signed).hex() for s in secrets]
    if not _matches(signatures, expected):
        raise _bad_signature()
    _check_age(timestamps[0], now, tolerance)
    # Stripe names the event in the body: its "id" is the delivery id.
    return Verified(None, None, topic_in_body=True)


def verify_github(headers, body, secrets, now, tolerance):
    (signature,) = _require(headers, "x-hub-signature-256")
    expected = ["sha256=" + _hmac_sha256(s, body).hex() for s in secrets]
    if not _matches([signature.strip()], expected):
        raise _bad_signature()
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


SCHEMES = {
    "standard": verify_standard,
    "shopify": verify_shopify,
    "woocommerce": verify_woocommerce,
    "stripe": verify_stripe,
    "github": verify_github,
}


# Schemes that sign no timestamp: a body taken once is refused again within
# the endpoint's duplicate window, whatever its delivery id header says.
SIGNS_NO_TIMESTAMP = frozenset({"shopify", "woocommerce", "github"})


def is_woocommerce_ping(headers, form):
    """WooCommerce's unsigned form POST ``webhook_id=<n>`` when a webhook is saved."""
    content_type = headers.get("content-type", "")
    return (
        content_type.startswith("application/x-www-form-urlencoded")
        and not headers.get("x-wc-webhook-signature")
        and set(form) == {"webhook_id"}
        and str(form["webhook_id"]).isdigit()
    )


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
