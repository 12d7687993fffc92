"""Text as PostgreSQL can store it.

A ``text`` or ``varchar`` column refuses NUL (psycopg2 raises ``ValueError``),
and no column takes a lone UTF-16 surrogate (``UnicodeEncodeError``), yet JSON
lets a sender put both in any string (``"\\u0000"``, ``"\\ud800"``), and a
receiver may answer any bytes. Everything the suite takes from outside into a
column goes through here first.
"""

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def is_storable(text):
    """Whether ``text`` (a str) can go into a PostgreSQL text column as is."""
    return not _UNSTORABLE.search(text)


def storable(text, limit=None):
    """``text`` with NUL dropped and lone surrogates replaced by U+FFFD, at
    most ``limit`` characters (an ellipsis ends a cut text)."""
    text = _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else REPLACEMENT, text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def decode(data, encoding=None):
    """Bytes as text in ``encoding`` (UTF-8 if none), undecodable bytes
    replaced. An unknown encoding, or a codec that cannot replace (``idna``),
    falls back to UTF-8."""
    try:
        return data.decode(encoding or "utf-8", "replace")
    except (LookupError, UnicodeError):
        return data.decode("utf-8", "replace")


def storable_bytes(data, limit=None, encoding=None):
    """Bytes from outside (an HTTP answer) as storable text: decoded as
    ``decode`` does, then as ``storable``."""
    if limit is not None:
        # A character is at most 4 bytes in UTF-8: the rest is never kept.
        data = data[: 4 * (limit + 1)]
    return storable(decode(data, encoding), limit)


def storable_tree(value):
    """A parsed JSON value with every string in it (keys too) made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable_tree(k): storable_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_tree(v) for v in value]
    return value
