"""When to open, keep, recover and tell about incidents: one per (flow,
kind) while its condition lasts, never a storm.

Plain Python over plain tuples; ``retail.monitor.incident`` applies the plan.

- A condition that starts opens an incident and notifies, unless the same
  (flow, kind) recovered less than ``reopen_within`` ago: then that incident
  is reopened, without a new notification (a flapping flow is one incident).
- A condition that lasts changes nothing (once per incident).
- An open incident whose condition is gone recovers, and says so.
- At most ``max_notifications`` notifications go out one by one per run; the
  rest are grouped in one digest.
"""

from dataclasses import dataclass, field
from datetime import timedelta

REOPEN_WITHIN = timedelta(minutes=30)
MAX_NOTIFICATIONS = 5


@dataclass
class Plan:
    open: list = field(default_factory=list)  # (flow key, kind, reason)
    reopen: list = field(default_factory=list)  # incident ids
    resolve: list = field(default_factory=list)  # incident ids
    notify: list = field(default_factory=list)  # ("opened"|"resolved", ref)
    digest: list = field(default_factory=list)  # the notifications grouped


def plan(
    conditions,
    incidents,
    now,
    reopen_within=REOPEN_WITHIN,
    max_notifications=MAX_NOTIFICATIONS,
):
    """``conditions``: {(flow key, kind): reason} true now. ``incidents``:
    the latest incident of each (flow key, kind) as (id, key, kind, open,
    resolved_at). Returns a :class:`Plan`; a notification's ``ref`` is
    ``(flow key, kind)`` for an incident to open, its id otherwise."""
    result = Plan()
    latest = {
        (key, kind): (iid, is_open, resolved_at)
        for iid, key, kind, is_open, resolved_at in incidents
    }
    notes = []
    for pair, reason in sorted(conditions.items()):
        found = latest.get(pair)
        if found and found[1]:
            continue  # still the same incident
        if found and found[2] and now - found[2] < reopen_within:
            result.reopen.append(found[0])
            continue
        result.open.append((pair[0], pair[1], reason))
        notes.append(("opened", pair))
    for pair, (iid, is_open, _resolved) in sorted(latest.items()):
        if is_open and pair not in conditions:
            result.resolve.append(iid)
            notes.append(("resolved", iid))
    result.notify = notes[:max_notifications]
    result.digest = notes[max_notifications:]
    return result
