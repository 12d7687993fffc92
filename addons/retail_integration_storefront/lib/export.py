"""What a channel's answer means for an outbox delivery.

The outbox decides when to try again and when a delivery is dead; this only
says which kind of answer it was: delivered (or nothing to do), throttled
(come back after the wait, not the receiver failing), unavailable or refused
(retried on the subscription's schedule, then dead into the inbox).
"""

from odoo.addons.retail_integration.lib.api_errors import Throttled
from odoo.addons.retail_integration_outbox.lib import retry


def delivered(reason):
    return retry.Outcome(retry.DELIVERED, reason)


def failed(err):
    """The Outcome of an ``ApiError`` (or its subclasses) for every delivery
    it concerns."""
    if isinstance(err, Throttled):
        return retry.Outcome(
            retry.RETRY,
            str(err),
            retry_after=float(err.retry_after),
            counts_for_circuit=False,
        )
    return retry.Outcome(retry.RETRY, str(err))


def retry_refused(message):
    """The channel refused this one item (a data error): retried on the
    schedule, which runs out and sends the delivery dead into the inbox,
    unless it is fixed before."""
    return retry.Outcome(retry.RETRY, message)
