"""The API's routes as data: what each needs (scope, models, headers) and
which service method answers it. The controller dispatches with it and the
OpenAPI document is written from it, so that they cannot disagree."""

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from email.utils import format_datetime

from .problems import Problem

PREFIX = "/retail/api/v1"
# The largest record id (PostgreSQL integer): a larger one names no record.
MAX_ID = 2**31 - 1
# No path, SKU or code of ours holds a control character (PostgreSQL's text
# cannot even hold NUL).
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SCOPES = {
    "stock:read": "Read stock availability",
    "prices:read": "Read pricelist prices",
    "orders:write": "Submit orders",
    "orders:read": "Read orders and their status",
    "reservations:write": "Reserve, confirm and release click-and-collect stock",
    "returns:write": "Open returns and follow them",
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # below PREFIX, with {name} parameters
    handler: str  # method of retail.api.service
    summary: str
    scope: str | None
    tag: str
    query: type | None = None
    body: type | None = None
    # a JSON body its handler reads itself, documented by this component
    raw_body: str | None = None
    response: type | None = None
    status: int = 200
    idempotent: bool = False  # needs an Idempotency-Key
    errors: tuple = ()
    example_request: dict | None = None
    example_response: dict | None = None
    # Deprecation (RFC 9745) and Sunset (RFC 8594) of a route being retired.
    deprecated: date | None = None
    sunset: date | None = None
    successor: str | None = None
    pattern: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    def deprecation_headers(self):
        headers = {}
        if self.deprecated:
            moment = datetime.combine(self.deprecated, time(), timezone.utc)
            headers["Deprecation"] = f"@{int(moment.timestamp())}"
        if self.sunset:
            moment = datetime.combine(self.sunset, time(), timezone.utc)
            headers["Sunset"] = format_datetime(moment, usegmt=True)
        if self.successor:
            headers["Link"] = f'<{PREFIX}{self.successor}>; rel="successor-version"'
        return headers


ROUTES = []


def register(route):
    ROUTES.append(route)
    return route


def match(method, path):
    """(route, path parameters) of ``method path`` (path below PREFIX)."""
    if CONTROL.search(path):
        raise Problem("not_found")
    allowed = False
    for route in ROUTES:
        found = route.pattern.match(path)
        if not found:
            continue
        if route.method == method or (method == "HEAD" and route.method == "GET"):
            return route, found.groupdict()
        allowed = True
    raise Problem("method_not_allowed" if allowed else "not_found")


# Pagination and caching ----------------------------------------------------


def encode_cursor(last_id):
    raw = json.dumps({"after": last_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor):
    """The id a page continues after (None: first page)."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = json.loads(raw)["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as err:
        raise Problem(
            "validation_error",
            "The cursor is not one this API gave.",
            [{"pointer": "cursor", "in": "query", "detail": "invalid cursor"}],
        ) from err
    if not isinstance(after, int) or not 1 <= after <= MAX_ID:
        raise Problem("validation_error", "The cursor is not one this API gave.")
    return after


def record_id(value):
    """The record id a path parameter names; 0 (no record) if it names none."""
    try:
        rid = int(value)
    except ValueError:
        return 0
    return rid if 1 <= rid <= MAX_ID else 0


def etag(body_bytes):
    return '"' + hashlib.sha256(body_bytes).hexdigest()[:32] + '"'


def etag_matches(if_none_match, tag):
    """RFC 9110 weak comparison of ``If-None-Match`` with ``tag``."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return tag in candidates
