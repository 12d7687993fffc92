"""A seasonal baseline of a flow's hourly volume, and the hints it gives.

One slot per hour of the week (168), each an exponentially weighted mean and
variance of the volumes seen in that slot: a Monday 10:00 is compared with
the Mondays 10:00 before it, recent weeks weighing more. Plain data
(``{"<slot>": [mean, var, n]}``) so that it is stored as JSON on the flow.

``check`` compares a volume with its slot: far below (a *silence*: "no
orders for 40 min; at this hour 35 ± 8 are usual") or far above (a *spike*),
``k`` standard deviations away. ``tune`` moves ``k`` with people's feedback:
a hint marked noise makes the flow's hints rarer, a useful one a little more
frequent. Decision support only: nothing here acts.
"""

import math
from dataclasses import dataclass

SLOTS = 168
ALPHA = 0.3  # weight of the newest week
MIN_WEEKS = 3  # a slot seen fewer times gives no hint
DEFAULT_K = 3.0
K_MIN, K_MAX = 2.0, 8.0
NOISE_STEP, USEFUL_STEP = 1.25, 0.95


def slot_of(moment):
    """The hour-of-week slot of a datetime (Monday 00:00 is 0)."""
    return moment.weekday() * 24 + moment.hour


def update(baseline, slot, volume, alpha=ALPHA):
    """``baseline`` with ``volume`` seen in ``slot`` (a new dict)."""
    baseline = dict(baseline or {})
    mean, var, seen = baseline.get(str(slot), (None, 0.0, 0))
    if mean is None:
        mean, var = float(volume), 0.0
    else:
        diff = volume - mean
        mean = mean + alpha * diff
        var = (1 - alpha) * (var + alpha * diff * diff)
    baseline[str(slot)] = [mean, var, seen + 1]
    return baseline


def expected(baseline, slot):
    """(mean, standard deviation, weeks seen) of ``slot``, or None."""
    entry = (baseline or {}).get(str(slot))
    if not entry:
        return None
    mean, var, seen = entry
    return mean, math.sqrt(max(var, 0.0)), seen


@dataclass(frozen=True)
class Hint:
    kind: str  # silence | spike
    observed: float
    mean: float
    std: float
    k: float

    @property
    def why(self):
        return (
            f"{self.observed:g} seen where {self.mean:.0f} ± {self.std:.0f} are usual "
            f"at this hour (threshold: {self.k:.2g} standard deviations)"
        )


def check(baseline, slot, observed, k=DEFAULT_K, fraction=1.0):
    """A :class:`Hint` if ``observed`` (the volume of the last ``fraction``
    of an hour) is far from ``slot``'s baseline, else None. The spread is
    at least the square root of the mean (counts vary that much by chance)
    and at least 1."""
    found = expected(baseline, slot)
    if not found:
        return None
    mean, std, seen = found
    if seen < MIN_WEEKS:
        return None
    mean, std = mean * fraction, std * fraction
    spread = max(std, math.sqrt(mean) if mean > 0 else 0.0, 1.0)
    if observed < mean - k * spread:
        return Hint("silence", observed, mean, std, k)
    if observed > mean + k * spread:
        return Hint("spike", observed, mean, std, k)
    return None


def tune(k, feedback):
    """The new threshold after a hint was marked ``useful`` or ``noise``."""
    k = k or DEFAULT_K
    if feedback == "noise":
        k *= NOISE_STEP
    elif feedback == "useful":
        k *= USEFUL_STEP
    return round(min(K_MAX, max(K_MIN, k)), 3)
