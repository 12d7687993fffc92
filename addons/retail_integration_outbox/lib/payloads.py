"""Payload builders, registered by (event type, version) where the records
they describe are extended.

A builder is ``build(record, scope) -> dict | None``: the ``data`` of the
event about ``record`` (``scope`` is ``(model, id)`` for a value per scope, a
warehouse's stock, else None), read when the transaction is about to commit;
None when there is nothing to report (a confirmation undone in the same
transaction). Each builder of a type returns None in the same cases. A module
adds an event type with its ``retail.outbox.event.type`` record and::

    @payloads.register("parcel.weighed")
    def parcel_weighed(picking, scope):
        return {"name": picking.name, "weight": picking.shipping_weight}

and a breaking change of its data with ``@payloads.register("parcel.weighed",
2)`` beside the first (see readme/USAGE.md, *Versions*).
"""

from .events import PAYLOAD_VERSION

BUILDERS = {}


class UnknownBuilder(LookupError):
    pass


def register(event_type, version=PAYLOAD_VERSION):
    """Decorator: register ``build`` as the builder of ``event_type`` in
    ``version`` (a later registration replaces an earlier one)."""

    def decorate(build):
        BUILDERS[(event_type, version)] = build
        return build

    return decorate


def unregister(event_type, version=PAYLOAD_VERSION):
    BUILDERS.pop((event_type, version), None)


def registered(event_type, version):
    return (event_type, version) in BUILDERS


def build(event_type, version, record, scope=None):
    """The data of an ``event_type`` event in ``version`` about ``record``."""
    try:
        builder = BUILDERS[(event_type, version)]
    except KeyError:
        raise UnknownBuilder(
            f"No payload builder is registered for {event_type} version {version}."
        ) from None
    return builder(record, scope)
