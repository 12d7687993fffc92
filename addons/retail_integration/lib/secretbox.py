"""Authenticated encryption of stored credentials (AES-256-GCM).

A sealed value is the text ``ri1$<key id>$<base64(nonce + ciphertext + tag)>``.
The key id (first 8 hex digits of SHA-256 of the key) names the key that sealed
it, so several keys can be accepted while one is being rotated out. The caller
passes a ``context`` (for instance ``retail.backend.api_secret``) that is
authenticated with the value: a sealed value copied into another field does not
open.
"""

import base64
import binascii
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "ri1"
NONCE_SIZE = 12


class SecretKeyError(ValueError):
    """The configured key is missing or not a valid key."""


class SecretDecryptError(ValueError):
    """A sealed value cannot be opened with any configured key."""


def generate_key():
    """Return a new random key as the configuration expects it."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _parse_key(text, setting):
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise SecretKeyError(
            f"{setting} must be 32 random bytes in URL-safe base64 (44 characters)"
        )
    return key


def key_id(key):
    return hashlib.sha256(key).hexdigest()[:8]


class SecretBox:
    """Seal with the current key; open with the current or any previous key."""

    def __init__(self, current_key, previous_keys=(), setting="retail_secret_key"):
        if not current_key:
            raise SecretKeyError(f"{setting} is not set")
        current = _parse_key(current_key, setting)
        self.current_id = key_id(current)
        self._keys = {self.current_id: AESGCM(current)}
        for text in previous_keys:
            previous = _parse_key(text, f"{setting}_previous")
            self._keys.setdefault(key_id(previous), AESGCM(previous))

    def seal(self, plaintext, context):
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._keys[self.current_id].encrypt(
            nonce, plaintext.encode(), context.encode()
        )
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{PREFIX}${self.current_id}${body}"

    def open(self, token, context):
        try:
            prefix, kid, body = token.split("$")
            raw = base64.urlsafe_b64decode(body.encode())
        except (ValueError, binascii.Error) as err:
            raise SecretDecryptError("the stored value is not a sealed secret") from err
        if prefix != PREFIX:
            raise SecretDecryptError("the stored value is not a sealed secret")
        aead = self._keys.get(kid)
        if aead is None:
            raise SecretDecryptError(f"it was sealed with key {kid}, not configured")
        try:
            plaintext = aead.decrypt(
                raw[:NONCE_SIZE], raw[NONCE_SIZE:], context.encode()
            )
        except InvalidTag as err:
            raise SecretDecryptError("the stored value fails authentication") from err
        return plaintext.decode()

    def is_current(self, token):
        return token.split("$")[1:2] == [self.current_id]
