"""Delivery transports, registered by a subscription's delivery mode.

A transport takes a batch of claimed deliveries to the receiver and says what
became of each. The dispatcher (``retail.event.subscription._dispatch``)
looks the subscription's transport up by its ``delivery_mode`` and calls it
through this interface only; it never names a mode. ``webhook`` (the signed
HTTP POST, ``transports/webhook.py``) is this module's; a module adds a mode
with ``selection_add`` on ``delivery_mode`` and a transport registered under
the same key::

    @transports.register("rabbitmq")
    class RabbitTransport(transports.Transport):
        def deliver(self, subscription, deliveries, session, secrets):
            ...

A mode without a registered transport is delivered by an override of
``retail.event.subscription._deliver`` (how connector modules did it first).
"""

TRANSPORTS = {}


class Transport:
    """The default: nothing to check, no secret; ``deliver`` is left to an
    override of ``_deliver``. Methods get the subscription (a record, sudo)."""

    key = None
    # Requests are signed with the subscription's signing secret (one is
    # generated for a new subscription).
    signed = False

    def check(self, subscription):
        """Why the subscription's settings cannot work (a constraint), or None."""
        return None

    def target(self, subscription):
        """Where deliveries go, for people (None: the delivery mode's name)."""
        return None

    def secrets(self, subscription):
        """What signs a dispatch run's requests (taken once per run)."""
        return [""]

    def refusal(self, subscription, secrets):
        """``(reason, cause, key)`` when nothing may be sent until a person
        acts (the subscription is stopped and ``cause`` reported), else
        None. Checked before each batch."""
        return None

    def deliver(self, subscription, deliveries, session, secrets):
        """Send ``deliveries`` (claimed, in order); yield ``(delivery,
        outcome, attempt_vals)`` for each one handled, in that order (see
        readme/USAGE.md, *Delivery modes and transports*)."""
        raise NotImplementedError


DEFAULT = Transport()


def register(key):
    """Class decorator: register an instance of the class as the transport
    of delivery mode ``key`` (a later registration replaces an earlier one)."""

    def decorate(cls):
        cls.key = key
        TRANSPORTS[key] = cls()
        return cls

    return decorate


def unregister(key):
    TRANSPORTS.pop(key, None)


def get(key):
    """The transport of delivery mode ``key``, or None."""
    return TRANSPORTS.get(key)
