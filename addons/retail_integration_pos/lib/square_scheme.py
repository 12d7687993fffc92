"""Square's webhook signature, registered in the webhook module's scheme
registry from here (no edit of that module).

Square signs each notification with the subscription's signature key:
``x-square-hmacsha256-signature`` is the base64 HMAC-SHA256 of the
notification URL followed by the raw body. Square signs no timestamp; the
event id (``event_id``) and type (``type``) are in the signed body.
"""

import base64
import json

from odoo.addons.retail_integration_webhook.lib import schemes

HEADER = "x-square-hmacsha256-signature"


def signature(secret, url, body):
    """What Square sends for ``body`` posted to ``url`` (for tests and tools)."""
    return base64.b64encode(schemes.hmac_sha256(secret, url.encode() + body)).decode()


@schemes.register("square", "Square", signs_timestamp=False)
def verify_square(req):
    (sent,) = schemes.require_headers(req.headers, HEADER)
    expected = [signature(s, req.url, req.body) for s in req.secrets]
    if not schemes.matches_any([sent.strip()], expected):
        raise schemes.bad_signature()
    try:
        payload = json.loads(req.body)
    except (ValueError, RecursionError):
        payload = None  # refused as invalid JSON right after
    if not isinstance(payload, dict):
        return schemes.Verified(None, None)
    event_id, topic = payload.get("event_id"), payload.get("type")
    return schemes.Verified(
        event_id if isinstance(event_id, str) else None,
        topic if isinstance(topic, str) else None,
    )
