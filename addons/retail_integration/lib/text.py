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
    """``text`` with NUL dropped and lone surrogates replaced by U+FFFD,
    cut to ``limit`` characters (an ellipsis marks the cut)."""
    text = _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else REPLACEMENT, text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return text


def storable_bytes(data, limit=None):
    """Bytes from outside (an HTTP answer) as storable text: invalid UTF-8
    replaced, then as ``storable``."""
    if limit is not None:
        data = data[: limit * 4]  # decode no more than can be kept
    return storable(data.decode("utf-8", errors="replace"), limit)


def storable_tree(value):
    """A parsed JSON value with every string in it (keys too) made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable_tree(k): storable_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_tree(v) for v in value]
    return value
