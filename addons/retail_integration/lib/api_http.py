"""Calling a channel's HTTP API: a bounded wait for every request, the
correlation ids of the events that caused it, and the answer read as JSON or
turned into an :mod:`.api_errors` error (a 429 with the wait it asks for, a 5xx
or a broken connection as an outage)."""

import contextlib
import contextvars

import requests

from .api_errors import ApiError, Throttled, Unavailable
from .text import storable_bytes, storable_tree

TIMEOUT = 30
# A call that carries a batch names at most this many flows (about 750 bytes).
MAX_CORRELATION_IDS = 20
_CORRELATION_IDS = contextvars.ContextVar("retail_correlation_ids", default=())


@contextlib.contextmanager
def correlation(ids):
    """Every call ``send`` makes inside sends ``ids`` (the correlation ids of
    the events that caused it; the first ones of a larger batch) in
    ``X-Correlation-Id``, comma-separated as HTTP lists are."""
    ids = tuple(dict.fromkeys(i for i in ids if i))[:MAX_CORRELATION_IDS]
    token = _CORRELATION_IDS.set(ids)
    try:
        yield ids
    finally:
        _CORRELATION_IDS.reset(token)


def send(session, method, url, timeout=TIMEOUT, **kwargs):
    """``session.request`` within ``timeout`` seconds, with the correlation
    ids in force (:func:`correlation`); ``Unavailable`` when the channel
    cannot be reached. Redirects are not followed (:func:`read_json` refuses
    them): a channel's answer could otherwise send the request, with its
    credentials' effects, to an address of the server's own network."""
    kwargs.setdefault("allow_redirects", False)
    ids = _CORRELATION_IDS.get()
    if ids:
        kwargs["headers"] = {
            "X-Correlation-Id": ", ".join(ids),
            **(kwargs.get("headers") or {}),
        }
    try:
        return session.request(method, url, timeout=timeout, **kwargs)
    except (requests.ConnectionError, requests.Timeout) as err:
        raise Unavailable(f"Cannot reach {url.split('?')[0]}: {err}", 0) from err


def retry_after(response, default=2.0):
    """The seconds a ``Retry-After`` header asks to wait (``default`` if
    none, or if it is not a number of seconds)."""
    try:
        return float(response.headers.get("Retry-After", default))
    except ValueError:
        return default


def read_json(response):
    """The JSON of a 2xx answer, made storable; the error of any other."""
    if response.status_code == 429:
        raise Throttled("HTTP 429 Too Many Requests", retry_after(response))
    if response.status_code >= 500:
        raise Unavailable(
            f"HTTP {response.status_code} from the channel", response.status_code
        )
    if response.status_code >= 400:
        raise ApiError(
            f"HTTP {response.status_code}: {storable_bytes(response.content, 200)}",
            response.status_code,
        )
    if response.status_code >= 300:
        location = storable_bytes(response.headers.get("Location", "").encode(), 200)
        raise ApiError(
            f"HTTP {response.status_code}: the channel redirected to {location!r}, "
            "which is not followed; if that is the channel's own address, set it "
            "on the backend.",
            response.status_code,
        )
    try:
        # What the channel sends ends up in columns: no NUL, no lone surrogate.
        return storable_tree(response.json())
    except ValueError as err:
        raise Unavailable(
            "The channel answered with something that is not JSON."
        ) from err
