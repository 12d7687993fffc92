"""The circuit breaker of a subscription: what one attempt's outcome does to
the subscription (its state, failure counters, probe time, and a receiver's
Retry-After hold). Plain values in, plain values out; the model writes the
changes and opens or closes the exception they call for.

- Delivered: healthy again (a paused one's exception is closed).
- 410 Gone: stopped until a person resumes it.
- Another failure: failing; paused after ``threshold`` in a row (0: never),
  then probed with one delivery at growing intervals; a failed probe pauses
  it again, for longer. A 429 is the receiver pacing us, not failing: it
  changes nothing but the hold.
- A ``retry_after`` holds the whole subscription until then.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import retry

HEALTHY = "healthy"
FAILING = "failing"
PAUSED = "paused"
STOPPED = "stopped"

# What a decision reports (the key of the exception it opens).
OPENED = "circuit"
GONE = "gone"


@dataclass(frozen=True)
class Circuit:
    state: str = HEALTHY
    consecutive_failures: int = 0
    times_paused: int = 0
    hold_until: datetime | None = None


@dataclass(frozen=True)
class Decision:
    changes: dict = field(default_factory=dict)  # subscription fields to write
    report: str | None = None  # OPENED or GONE: open an exception saying so
    resolve: bool = False  # a paused receiver answered: close its exceptions


def after_attempt(circuit, outcome, *, probing, threshold, now):
    """The ``Decision`` after an attempt with ``outcome`` (``lib.retry``),
    answered at ``now`` (a naive UTC datetime); ``probing``: the attempt was
    the probe of a paused subscription."""
    seconds = now.replace(microsecond=0)
    if outcome.kind == retry.DELIVERED:
        if circuit.state == HEALTHY and not circuit.consecutive_failures:
            return Decision()
        changes = {
            "state": HEALTHY,
            "state_reason": False,
            "consecutive_failures": 0,
            "times_paused": 0,
            "probe_at": False,
            "last_success": seconds,
        }
        return Decision(changes, resolve=circuit.state == PAUSED)
    if outcome.kind == retry.GONE:
        return Decision({"state": STOPPED, "state_reason": outcome.reason}, GONE)
    changes = {}
    if outcome.retry_after is not None:
        # Never a second before the time the receiver asked for.
        until = retry.due_at(now, outcome.retry_after)
        if not circuit.hold_until or until > circuit.hold_until:
            changes["hold_until"] = until
    if not (outcome.counts_for_circuit or probing):
        return Decision(changes)
    # A probe answered 429 is not a failure, but the circuit stays open.
    failures = circuit.consecutive_failures + int(outcome.counts_for_circuit)
    changes.update(consecutive_failures=failures, state_reason=outcome.reason)
    if not (probing or retry.circuit_opens(failures, threshold)):
        changes["state"] = FAILING
        return Decision(changes)
    paused = circuit.times_paused + 1
    changes.update(
        state=PAUSED,
        times_paused=paused,
        probe_at=seconds + timedelta(seconds=retry.probe_wait(paused)),
    )
    return Decision(changes, report=None if probing else OPENED)
