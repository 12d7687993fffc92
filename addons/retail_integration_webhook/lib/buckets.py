"""Token buckets shared by every worker: one row per bucket in a runtime
table (``tokens``, ``refilled_at``, ``allowed``), updated by one statement on
the worker's autocommit connection (``autocommit.py``). In READ COMMITTED,
ON CONFLICT DO UPDATE waits for a concurrent request's update and computes
from its result. The webhook endpoints and the API clients use it."""

import math

from . import autocommit

NOW = "(clock_timestamp() at time zone 'UTC')"
# The bucket's tokens now: what it had, refilled at the rate since, capped.
REFILL = (
    f"LEAST(%(burst)s, r.tokens + %(rate)s * EXTRACT(EPOCH FROM {NOW} - r.refilled_at))"
)


def take(dbname, table, key_column, key, rate, burst):
    """Take a token from ``key``'s bucket (its row of ``table``, created full
    at ``burst``, refilled at ``rate`` per second): 0 if taken, else the
    seconds to wait. ``table`` and ``key_column`` are the caller's constants."""
    [(allowed, tokens)] = autocommit.execute(
        dbname,
        f"""
        INSERT INTO {table} AS r ({key_column}, tokens, refilled_at, allowed)
        VALUES (%(key)s, %(burst)s - 1, {NOW}, true)
        ON CONFLICT ({key_column}) DO UPDATE SET
            tokens = CASE WHEN {REFILL} >= 1
                          THEN {REFILL} - 1 ELSE {REFILL} END,
            allowed = {REFILL} >= 1,
            refilled_at = {NOW}
        RETURNING allowed, tokens
        """,
        {"key": key, "burst": float(burst), "rate": rate},
    )
    if allowed:
        return 0
    return max(1, math.ceil((1 - tokens) / rate))
