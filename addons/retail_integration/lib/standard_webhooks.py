"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

``webhook-signature`` holds one or more space-separated ``v1,<base64>`` values,
each an HMAC-SHA256 of ``<webhook-id>.<webhook-timestamp>.<body>`` keyed with
the base64-decoded secret (written ``whsec_<base64>``). Used to sign what the
outbox sends and to verify what channels post.
"""

import base64
import binascii
import hashlib
import hmac
import os

SECRET_PREFIX = "whsec_"


class InvalidSecret(ValueError):
    pass


def generate_secret():
    return SECRET_PREFIX + base64.b64encode(os.urandom(24)).decode()


def secret_bytes(secret):
    """The key bytes of a ``whsec_`` secret (the prefix is optional)."""
    text = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(text + "==", validate=False)
    except (binascii.Error, ValueError) as err:
        raise InvalidSecret("the secret is not base64") from err
    if not key:
        raise InvalidSecret("the secret is empty")
    return key


def sign(secret, msg_id, timestamp, body):
    """The ``v1,<base64>`` signature of ``body`` (bytes)."""
    signed = b"%s.%d.%s" % (msg_id.encode(), int(timestamp), body)
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret, msg_id, timestamp, body, *more_secrets):
    """The three headers that sign ``body`` (bytes) as message ``msg_id``;
    with ``more_secrets``, one signature per secret (a receiver that knows
    any one of them verifies: how a secret is rotated without failures)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": " ".join(
            sign(key, msg_id, timestamp, body) for key in (secret, *more_secrets)
        ),
    }


def verify(secrets, msg_id, timestamp, body, signature_header):
    """Whether one of the signatures in the header matches one of ``secrets``.

    Every candidate is compared in constant time.
    """
    expected = [sign(secret, msg_id, timestamp, body).encode() for secret in secrets]
    matched = False
    for candidate in signature_header.split():
        for signature in expected:
            matched |= hmac.compare_digest(candidate.encode(), signature)
    return matched
