"""API keys: generated here, shown once, stored as a SHA-256 hash.

A key is ``rtk_<prefix>_<secret>``: the prefix (8 lowercase hex characters)
names the key in lists and audit rows and finds its row; the secret is 32
random bytes. A hash without salt is enough for 256 random bits (no
dictionary to try), and it is cheap enough to check on every call.
"""

import hashlib
import hmac
import re
import secrets

KEY_PATTERN = re.compile(r"^rtk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")


def generate():
    """(key, prefix, hash) of a new key."""
    prefix = secrets.token_hex(4)
    key = f"rtk_{prefix}_{secrets.token_urlsafe(32)}"
    return key, f"rtk_{prefix}", digest(key)


def digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


def prefix_of(key):
    """The stored prefix of ``key``, or None if it is not shaped as a key."""
    match = KEY_PATTERN.match(key or "")
    return f"rtk_{match.group(1)}" if match else None


def matches(key, stored_hash):
    return hmac.compare_digest(digest(key), stored_hash or "")


def from_headers(headers):
    """The key a request presents: ``Authorization: Bearer <key>`` or
    ``X-Api-Key: <key>`` (``headers``: a request's headers, or any mapping
    with lowercase names)."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return headers.get("x-api-key", "").strip()


# The demo database's key, published in the README. Demo data only.
DEMO_KEY = "rtk_00000000_DEMO-KEY-not-for-production-use-00000000000"
