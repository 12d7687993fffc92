"""EasyPost's webhook signature, registered in the webhook module's scheme
registry: ``X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256 of the body>``
keyed with the webhook secret normalized to Unicode NFKD (as EasyPost's own
libraries do, ``easypost.util.validate_webhook``). EasyPost signs no
timestamp: replays are refused by the event id (the delivery id, read from
the signed body) and by the endpoint's duplicate-body window."""

import json
import unicodedata

from odoo.addons.retail_integration_webhook.lib import schemes

PREFIX = "hmac-sha256-hex="


def signature(secret, body):
    """The header value EasyPost sends with ``body`` (bytes)."""
    key = unicodedata.normalize("NFKD", secret)
    return PREFIX + schemes.hmac_sha256(key, body).hex()


@schemes.register("easypost", "EasyPost", signs_timestamp=False)
def verify_easypost(req):
    (header,) = schemes.require_headers(req.headers, "x-hmac-signature")
    expected = [signature(secret, req.body) for secret in req.secrets]
    if not schemes.matches_any([header.strip()], expected):
        raise schemes.bad_signature()
    # The event's id and its description (tracker.updated...) are in the
    # body, which is signed; an unreadable body is refused after this.
    try:
        event = json.loads(req.body)
    except (ValueError, RecursionError):
        return schemes.Verified(None, None)
    if not isinstance(event, dict):
        return schemes.Verified(None, None)
    delivery_id, topic = event.get("id"), event.get("description")
    return schemes.Verified(
        delivery_id if isinstance(delivery_id, str) else None,
        topic if isinstance(topic, str) else None,
    )
