"""Personal data in stored payloads: which fields hold it, per provider, and
how to mask them.

A field list names, for one kind of payload:

- ``keys``: keys whose value is personal wherever it appears (``email``);
- ``containers``: keys whose value, an object or a list of objects, is
  personal as a whole (``billing_address``): every value inside is masked but
  the ``keep`` keys (ids, country codes), at any depth.

Masking replaces a string with ``MASK`` and any other non-empty scalar with
None, so ids, totals, SKUs, quantities and product names, named by no list,
stay as they were: the masked record still tells support what happened.

Lists are registered by key with :func:`register`; :func:`field_list` finds
the one of a payload from its backend's provider and its topic: a list of
topic prefixes (Stripe events arrive on any storefront's endpoint) wins over
a provider's list; an unknown provider gets the ``generic`` list.
"""

import json
from dataclasses import dataclass, field

from odoo.addons.retail_integration.lib.registry import Registry

MASK = "***"

KEEP = frozenset(
    {
        "id",
        "object",
        "admin_graphql_api_id",
        "country",
        "country_code",
        "country_iso",
        "currency",
        "ref",
        "customer_id",
    }
)

FIELD_LISTS = Registry("PII field list")


@dataclass(frozen=True)
class FieldList:
    label: str
    keys: frozenset = frozenset()
    containers: frozenset = frozenset()
    keep: frozenset = KEEP
    providers: tuple = ()
    topics: tuple = field(default=(), repr=False)
    key: str = ""

    def mask(self, payload):
        """(masked copy of ``payload``, number of values masked)."""
        counter = [0]
        masked = _walk(payload, self, counter, whole=False)
        return masked, counter[0]


def register(key, field_list):
    """Register ``field_list`` under ``key`` (replacing one of the same key)."""
    entry = FieldList(**{**field_list.__dict__, "key": key})
    return FIELD_LISTS.add(key, entry)


def field_list(provider, topic=None):
    """The field list of a payload of ``provider`` under ``topic``."""
    topic = topic or ""
    entries = FIELD_LISTS.values()
    for entry in entries:
        if entry.topics and topic.startswith(entry.topics):
            if not entry.providers or provider in entry.providers:
                return entry
    for entry in entries:
        if not entry.topics and provider in entry.providers:
            return entry
    return FIELD_LISTS["generic"]


def _scalar(value, counter):
    if value is None or value == "" or isinstance(value, bool):
        return value
    if value == MASK:
        return value
    counter[0] += 1
    return MASK if isinstance(value, str) else None


def _walk(value, spec, counter, whole):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if whole and key in spec.keep:
                out[key] = item
            elif whole or key in spec.containers:
                out[key] = _walk(item, spec, counter, whole=True)
            elif key in spec.keys:
                out[key] = _walk(item, spec, counter, whole=True)
            else:
                out[key] = _walk(item, spec, counter, whole=False)
        return out
    if isinstance(value, list):
        return [_walk(item, spec, counter, whole) for item in value]
    return _scalar(value, counter) if whole else value


def mask_json(text, spec):
    """(masked JSON text, number of values masked) of a stored body. A body
    that is not JSON, or nested too deep to walk, is masked whole: no list
    can say which part of it is personal, and it must not stop the batch."""
    if not text:
        return text, 0
    try:
        masked, count = spec.mask(json.loads(text))
    except (ValueError, RecursionError):
        return MASK, 1
    if not count:
        return text, 0
    return json.dumps(masked, separators=(",", ":"), ensure_ascii=False), count
