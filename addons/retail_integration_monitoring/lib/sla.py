"""An SLA and the state a flow's health puts it in.

Plain Python: the flow model passes the numbers SQL measured.

- *breached*: the failure rate over the SLA window is above the maximum, the
  lag (p95 over the window, or the age of the oldest waiting item) is above
  the maximum lag, or the circuit is open or stopped;
- *warning*: one of them is at :data:`WARNING_SHARE` of its maximum or more,
  or items are dead (waiting for a person);
- *ok* otherwise. A flow with no traffic and nothing waiting is ok: silence
  is the anomaly hints' business (a baseline says whether it is usual).
"""

from dataclasses import dataclass, field

WARNING_SHARE = 0.8
# Below this many items in the window, a failure rate says little: one
# failure of two is not "50 %" worth paging for; it is a warning at most.
MIN_VOLUME_FOR_BREACH = 5
EPSILON = 1e-9  # 4 % is 80 % of 5 %, whatever floats say

OK, WARNING, BREACHED = "ok", "warning", "breached"
ORDER = {OK: 0, WARNING: 1, BREACHED: 2}


@dataclass(frozen=True)
class Sla:
    max_lag_seconds: float = 300
    max_failure_rate: float = 0.05
    window_hours: int = 1


@dataclass(frozen=True)
class Measure:
    """What the SLA is checked against."""

    volume: int = 0
    failed: int = 0
    lag_p95: float | None = None
    oldest_pending_age: float | None = None
    dead: int = 0
    circuit: str = "closed"

    @property
    def failure_rate(self):
        return self.failed / self.volume if self.volume else 0.0


@dataclass
class Verdict:
    state: str = OK
    reasons: list = field(default_factory=list)

    def raise_to(self, state, reason):
        if ORDER[state] > ORDER[self.state]:
            self.state = state
        self.reasons.append(reason)


def evaluate(sla, measure):
    """The :class:`Verdict` of ``measure`` (over the SLA's window) against
    ``sla``; its reasons are (code, numbers) tuples the caller words."""
    verdict = Verdict()
    if measure.circuit in ("open", "stopped"):
        verdict.raise_to(BREACHED, ("circuit", {"circuit": measure.circuit}))
    rate = measure.failure_rate
    if sla.max_failure_rate is not None and measure.failed:
        limit = sla.max_failure_rate
        if rate > limit:
            state = BREACHED if measure.volume >= MIN_VOLUME_FOR_BREACH else WARNING
            verdict.raise_to(state, ("failure_rate", {"rate": rate, "limit": limit}))
        elif rate >= WARNING_SHARE * limit - EPSILON:
            verdict.raise_to(WARNING, ("failure_rate", {"rate": rate, "limit": limit}))
    if sla.max_lag_seconds:
        lags = [v for v in (measure.lag_p95, measure.oldest_pending_age) if v]
        lag = max(lags) if lags else None
        if lag is not None and lag > sla.max_lag_seconds:
            verdict.raise_to(
                BREACHED, ("lag", {"lag": lag, "limit": sla.max_lag_seconds})
            )
        elif lag is not None and lag >= WARNING_SHARE * sla.max_lag_seconds - EPSILON:
            verdict.raise_to(
                WARNING, ("lag", {"lag": lag, "limit": sla.max_lag_seconds})
            )
    if measure.dead:
        verdict.raise_to(WARNING, ("dead", {"count": measure.dead}))
    return verdict


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values):
    """A line of block characters, one per value, scaled to the largest
    (all zero: the lowest bar)."""
    top = max(values, default=0)
    if not top:
        return BARS[0] * len(values)
    return "".join(
        BARS[min(len(BARS) - 1, int(v * (len(BARS) - 1) / top + 0.5))] for v in values
    )


def human_duration(seconds):
    """3 s, 4 min, 2 h 5 min, 3 d 4 h."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
