"""Tracking statuses, and which of two reports of a shipment wins.

Carriers' webhooks arrive late, twice and out of order. A report replaces
the shipment's status only if it is newer; a final status (delivered,
returned to sender) is never replaced by a status that is still on the way,
whatever the clocks say (scans are stamped in local time by different
systems). Plain Python: tested without a database.
"""

import hashlib

PRE_TRANSIT = "pre_transit"
IN_TRANSIT = "in_transit"
OUT_FOR_DELIVERY = "out_for_delivery"
AVAILABLE_FOR_PICKUP = "available_for_pickup"
DELIVERED = "delivered"
RETURNED = "return_to_sender"
FAILURE = "failure"
CANCELLED = "cancelled"
ERROR = "error"
UNKNOWN = "unknown"

# EasyPost's statuses (https://docs.easypost.com/docs/trackers), which the
# generic JSON carrier's contract takes too.
STATUSES = [
    (UNKNOWN, "Unknown"),
    (PRE_TRANSIT, "Label created"),
    (IN_TRANSIT, "In transit"),
    (OUT_FOR_DELIVERY, "Out for delivery"),
    (AVAILABLE_FOR_PICKUP, "Available for pickup"),
    (DELIVERED, "Delivered"),
    (RETURNED, "Returned to sender"),
    (FAILURE, "Delivery exception"),
    (CANCELLED, "Cancelled"),
    (ERROR, "Tracking error"),
]
KNOWN = {key for key, _label in STATUSES}
FINAL = {DELIVERED, RETURNED, CANCELLED}
ON_THE_WAY = {UNKNOWN, PRE_TRANSIT, IN_TRANSIT, OUT_FOR_DELIVERY, AVAILABLE_FOR_PICKUP}
# Rank among reports stamped at the same moment.
RANK = {key: n for n, (key, _label) in enumerate(STATUSES)}

IN_TRANSIT_EVENT = "shipment.in_transit"
DELIVERED_EVENT = "shipment.delivered"
EXCEPTION_EVENT = "shipment.exception"
RETURNED_EVENT = "shipment.returned"
EVENT_TYPES = (IN_TRANSIT_EVENT, DELIVERED_EVENT, EXCEPTION_EVENT, RETURNED_EVENT)
# Which outbox event a new status of a shipment writes (None: none).
EVENT_OF_STATUS = {
    IN_TRANSIT: IN_TRANSIT_EVENT,
    OUT_FOR_DELIVERY: IN_TRANSIT_EVENT,
    AVAILABLE_FOR_PICKUP: IN_TRANSIT_EVENT,
    DELIVERED: DELIVERED_EVENT,
    FAILURE: EXCEPTION_EVENT,
    ERROR: EXCEPTION_EVENT,
    RETURNED: RETURNED_EVENT,
}
EXCEPTION_STATUSES = {FAILURE, ERROR}


def normalize(status):
    """A known status for what a provider says (unknown ones are UNKNOWN)."""
    status = (status or "").strip().lower()
    return status if status in KNOWN else UNKNOWN


def supersedes(current, current_at, new, new_at):
    """Whether a report (``new`` at ``new_at``) replaces the shipment's
    status (``current`` at ``current_at``; None when it has none)."""
    if not current or current == UNKNOWN:
        return new != UNKNOWN or not current
    if new == UNKNOWN or new == current:
        return False
    if current in FINAL and new in ON_THE_WAY:
        return False  # an older "in transit" never undoes "delivered"
    if current_at is None:
        return True
    if new_at is None:
        return False
    if new_at != current_at:
        return new_at > current_at
    return RANK[new] > RANK[current]


def latest(events):
    """The newest of ``events`` (TrackingEvent), by time then rank; None."""
    known = [e for e in events if e.occurred_at and e.status != UNKNOWN]
    if not known:
        return None
    return max(known, key=lambda e: (e.occurred_at, RANK[e.status]))


def event_key(event):
    """What identifies a tracking event among a shipment's, however often a
    provider reports it: its time, status, place and message."""
    text = "|".join(
        [
            event.occurred_at.isoformat() if event.occurred_at else "",
            event.status,
            event.location or "",
            (event.message or "")[:500],
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def aggregate(statuses):
    """The picking's status from its packages' (multi-package shipments):
    an exception or a return if any package has one, delivered once all
    are, else the least advanced one."""
    statuses = [s for s in statuses if s]
    if not statuses:
        return False
    for status in (FAILURE, ERROR, RETURNED):
        if status in statuses:
            return status
    if all(s == DELIVERED for s in statuses):
        return DELIVERED
    moving = [s for s in statuses if s in ON_THE_WAY]
    return min(moving, key=RANK.get) if moving else statuses[0]


def backoff(attempt, retry_after=None):
    """Seconds before attempt ``attempt`` + 1 of a label purchase: 10 s,
    then 30 s, 2, 5, 15, 30 min; a provider's Retry-After if longer."""
    schedule = (10, 30, 120, 300, 900, 1800)
    seconds = schedule[min(max(attempt, 1), len(schedule)) - 1]
    return max(seconds, retry_after or 0)
