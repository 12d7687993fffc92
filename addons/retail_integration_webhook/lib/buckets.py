"""Token buckets shared by every worker: one row per bucket in a runtime
table (``tokens``, ``refilled_at``, ``granted``), updated by one statement on
the worker's autocommit connection (``autocommit.py``). In READ COMMITTED,
ON CONFLICT DO UPDATE waits for a concurrent request's update and computes
from its result. The webhook endpoints and the API clients use it.

A worker takes a few tokens at once (a lease) and spends them on its next
requests: one statement per lease instead of one per request. Leasing moves
tokens, it makes none, so over any window of T seconds a bucket admits at
most ``burst + rate * T`` plus what the workers held in leases when the window
opened, and at least that minus what they hold unspent when it closes: the
tolerance is ``(lease - 1)`` tokens per worker process, either way. A lease
is at most a twentieth of the burst (none below a burst of 40: every request
takes its own token) and 16 tokens, and it expires after a second unspent,
so a worker that goes quiet cannot keep tokens for a later burst.
"""

import math
import os
import threading
import time

from odoo.tools import SQL

from . import autocommit

LEASE_MAX = 16
LEASE_SHARE = 20  # a lease is at most burst / LEASE_SHARE
LEASE_SECONDS = 1.0

# Columns every bucket table has, after its key column.
COLUMNS = SQL("""
    tokens double precision NOT NULL DEFAULT 0,
    refilled_at timestamp NOT NULL DEFAULT (now() at time zone 'UTC'),
    granted integer NOT NULL DEFAULT 0
""")

NOW = "(clock_timestamp() at time zone 'UTC')"
# The bucket's tokens now: what it had, refilled at the rate since, capped.
REFILL = (
    f"LEAST(%(burst)s, r.tokens + %(rate)s * EXTRACT(EPOCH FROM {NOW} - r.refilled_at))"
)
# What a take gets: up to a lease, the whole tokens there are.
GRANT = f"LEAST(%(lease)s, FLOOR(GREATEST({REFILL}, 0)))::integer"

# (pid, database, table, key, rate, burst) -> [tokens left, monotonic expiry]:
# new settings of a bucket start a new lease.
_leases = {}
_lock = threading.Lock()  # threaded server


def upgrade(cr, table):
    """Bring a bucket table created before leases (an ``allowed`` flag) to
    ``COLUMNS``."""
    cr.execute(
        SQL(
            """ALTER TABLE %s
                ADD COLUMN IF NOT EXISTS granted integer NOT NULL DEFAULT 0,
                DROP COLUMN IF EXISTS allowed""",
            SQL.identifier(table),
        )
    )


def lease_size(burst):
    return max(1, min(LEASE_MAX, int(burst // LEASE_SHARE)))


def take(dbname, table, key_column, key, rate, burst):
    """Take a token from ``key``'s bucket (its row of ``table``, created full
    at ``burst``, refilled at ``rate`` per second): 0 if taken, else the
    seconds to wait. ``table`` and ``key_column`` are the caller's constants."""
    lease_key = (os.getpid(), dbname, table, key, rate, burst)
    with _lock:
        lease = _leases.get(lease_key)
        if lease and lease[0] >= 1 and lease[1] > time.monotonic():
            lease[0] -= 1
            return 0
    size = lease_size(burst)
    [(granted, tokens)] = autocommit.execute(
        dbname,
        f"""
        INSERT INTO {table} AS r ({key_column}, tokens, refilled_at, granted)
        VALUES (%(key)s, %(burst)s - %(first)s, {NOW}, %(first)s)
        ON CONFLICT ({key_column}) DO UPDATE SET
            tokens = GREATEST({REFILL} - {GRANT}, 0),
            granted = {GRANT},
            refilled_at = {NOW}
        RETURNING granted, tokens
        """,
        {
            "key": key,
            "burst": float(burst),
            "rate": rate,
            "lease": size,
            "first": min(size, int(burst)),
        },
    )
    if granted:
        if granted > 1:
            now = time.monotonic()
            with _lock:
                if len(_leases) > 1000:  # buckets seen once, or settings changed
                    for stale in [k for k, (_n, end) in _leases.items() if end < now]:
                        del _leases[stale]
                _leases[lease_key] = [granted - 1, now + LEASE_SECONDS]
        return 0
    return max(1, math.ceil((1 - tokens) / rate))
