"""When to try a delivery again, and what an HTTP answer means.

A schedule is the list of waits, in seconds, before each attempt: the first
(usually 0) before the first attempt, the next before the first retry, and so
on. After the last attempt of the schedule a delivery is dead.
"""

import email.utils
import random
import re
from dataclasses import dataclass
from datetime import timedelta

DEFAULT_SCHEDULE = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
DEFAULT_JITTER = 0.1
# A receiver's Retry-After is honoured up to this many seconds.
MAX_RETRY_AFTER = 86400

DELIVERED = "delivered"
RETRY = "retry"
GONE = "gone"


class InvalidSchedule(ValueError):
    pass


def parse_schedule(text):
    """``"0, 5, 300"`` -> ``(0, 5, 300)``; units ``s``, ``m``, ``h`` allowed."""
    units = {"s": 1, "m": 60, "h": 3600}
    waits = []
    for item in (text or "").replace(";", ",").split(","):
        item = item.strip().lower()
        if not item:
            continue
        factor = units.get(item[-1], 1)
        number = item[:-1] if item[-1] in units else item
        try:
            value = float(number) * factor
        except ValueError as err:
            raise InvalidSchedule(f"{item!r} is not a number of seconds") from err
        if value < 0:
            raise InvalidSchedule(f"{item!r} is negative")
        waits.append(int(value))
    if not waits:
        raise InvalidSchedule("the schedule is empty")
    return tuple(waits)


def format_schedule(waits):
    def one(seconds):
        for unit, size in (("h", 3600), ("m", 60)):
            if seconds >= size and seconds % size == 0:
                return f"{seconds // size}{unit}"
        return f"{seconds}s"

    return ", ".join(one(w) for w in waits)


def retry_delay(schedule, attempts, jitter=DEFAULT_JITTER, rand=random.random):
    """Seconds to wait after ``attempts`` failed attempts, or None: dead.

    The wait is spread by +/- ``jitter`` (a fraction) so that deliveries that
    failed together do not come back together.
    """
    if attempts >= len(schedule):
        return None
    wait = schedule[attempts]
    return max(0.0, wait * (1 + jitter * (2 * rand() - 1)))


def parse_retry_after(value, now_ts):
    """Seconds from a ``Retry-After`` header (delta or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    # ASCII digits only (str.isdigit() also takes "²", which int() refuses);
    # a fraction is taken too, as some receivers send "2.0".
    if re.fullmatch(r"\d+(\.\d+)?", value, re.ASCII):
        seconds = float(value)  # inf for a huge number: capped below
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - now_ts
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


@dataclass(frozen=True)
class Outcome:
    kind: str  # DELIVERED, RETRY or GONE
    reason: str
    retry_after: float | None = None
    # Whether this failure says the receiver is unwell (counts for the circuit).
    # A 429 is the receiver pacing us, not failing.
    counts_for_circuit: bool = True


def classify_response(status, retry_after_header=None, now_ts=0.0):
    """What an HTTP status means for the delivery (redirects are not followed)."""
    if 200 <= status < 300:
        return Outcome(DELIVERED, f"HTTP {status}")
    if status == 410:
        return Outcome(GONE, "HTTP 410 Gone: the receiver asks to stop sending")
    if status in (429, 503):
        return Outcome(
            RETRY,
            f"HTTP {status}",
            retry_after=parse_retry_after(retry_after_header, now_ts),
            counts_for_circuit=status != 429,
        )
    if 300 <= status < 400:
        return Outcome(RETRY, f"HTTP {status}: redirects are not followed")
    return Outcome(RETRY, f"HTTP {status}")


def next_wait(outcome, schedule, attempts, jitter=DEFAULT_JITTER, rand=random.random):
    """Seconds until the next attempt after a failed one, or None: dead."""
    wait = retry_delay(schedule, attempts, jitter, rand)
    if wait is None:
        return None
    if outcome.retry_after is not None:
        return outcome.retry_after
    return wait


def due_at(now, wait):
    """The time ``wait`` seconds after ``now``, rounded up to the whole
    second: never before the time asked, and comparable with the whole
    seconds the dispatcher's clock has."""
    when = now + timedelta(seconds=wait)
    if when.microsecond:
        when = when.replace(microsecond=0) + timedelta(seconds=1)
    return when


def circuit_opens(consecutive_failures, threshold):
    return threshold > 0 and consecutive_failures >= threshold


def probe_wait(times_opened, base=300, cap=3600):
    """Seconds before probing a paused subscription: doubles, up to ``cap``."""
    return min(cap, base * 2 ** max(0, times_opened - 1))
