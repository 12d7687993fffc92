"""The message table as the queue: the SQL of the per-backend drain.

A backend's ``queued`` messages are processed by drain jobs, one per
``(backend, slot)``; ``retail_inbound_drain`` holds one row per drain that
exists (queued or running), the *flag*. Nothing else orders or holds them.
Slot 0's drain arms the others, helpers, for a backlog; a helper that finds
nothing to claim just ends: the handshake below is slot 0's, whose drain
looks one last time and queues the wake-ups.

Handshake between the accept path and the end of a drain (no message is left
without a drain, with no lock taken on the hot path but a shared one):

- an accepted request INSERTs its message, then locks slot 0's flag FOR KEY
  SHARE (``ACCEPT_SQL``, one statement). Found: a drain exists; the lock is
  held until the request commits. Not found: the request INSERTs the flag and
  queues the drain job (``ARM_SQL``), in its transaction;
- a drain that finds nothing due DELETEs its flag (``RELEASE_SQL``): the
  DELETE waits for every request holding the flag's share lock, so each of
  their messages is committed before the drain looks one last time, in a new
  transaction. A request that comes after the DELETE does not find the flag
  (or, its snapshot being older, fails to lock it: a serialization failure,
  answered by running its statement again) and arms a new drain.

REPEATABLE READ turns every race into a serialization failure of one side,
never into a message without a drain.
"""

from odoo.tools import config

from odoo.addons.retail_integration.lib.options import positive_int

DEFAULT_BATCH = 200
DEFAULT_SECONDS = 10
DEFAULT_DRAINS = 1
# A drain that finds nothing due looks again every IDLE_POLL seconds for
# IDLE_SECONDS before it ends.
IDLE_SECONDS = 1.0
IDLE_POLL = 0.05
# Seconds ahead a wake-up job is queued at most.
MAX_WAKE_UP = 3600
# Seconds a drain waits for the requests holding its flag before it looks for
# new messages instead (those requests are writing some).
RELEASE_LOCK_TIMEOUT = "200ms"

ACCEPT_SQL = """
    WITH message AS ({insert}),
    flag AS (
        SELECT 1 FROM retail_inbound_drain
        WHERE backend_id = %(backend)s AND slot = 0
          AND EXISTS (SELECT 1 FROM message WHERE message.state = 'queued')
        FOR KEY SHARE
    )
    SELECT (SELECT id FROM message), EXISTS (SELECT 1 FROM flag)
"""

# The same, on the worker's own autocommit connection, prepared once
# (lib/autocommit.py): the flag is locked first, and a queued message is
# inserted only if it exists (the statement's commit ends the lock). Without
# a flag nothing is written: the request stores its message with ACCEPT_SQL
# in its own transaction, which arms the drain.
ACCEPT_ALONE_SQL = """
    WITH flag AS (
        SELECT 1 FROM retail_inbound_drain
        WHERE backend_id = %(backend)s AND slot = 0
        FOR KEY SHARE
    ),
    message AS ({insert})
    SELECT (SELECT id FROM message), EXISTS (SELECT 1 FROM flag)
"""
ALONE_CONDITION = "AND (%(state)s::varchar <> 'queued' OR EXISTS (SELECT 1 FROM flag))"

# Only in a transaction that has already written its messages' state.
ARM_SQL = """
    INSERT INTO retail_inbound_drain (backend_id, slot, armed_at)
    VALUES (%s, %s, now() AT TIME ZONE 'UTC')
    ON CONFLICT DO NOTHING
    RETURNING backend_id
"""

OWNER_SQL = (
    "SELECT job_uuid FROM retail_inbound_drain WHERE backend_id = %s AND slot = %s"
)

OWN_SQL = (
    "UPDATE retail_inbound_drain SET job_uuid = %s WHERE backend_id = %s AND slot = %s"
)

# The job that runs a drain takes its flag: the flag its arming wrote its uuid
# in, a missing flag (a wake-up), or a flag whose job is over (a job failed or
# deleted: the safety net).
TAKE_SQL = """
    INSERT INTO retail_inbound_drain AS d (backend_id, slot, armed_at, job_uuid)
    VALUES (%(backend)s, %(slot)s, now() AT TIME ZONE 'UTC', %(uuid)s)
    ON CONFLICT (backend_id, slot) DO UPDATE SET job_uuid = EXCLUDED.job_uuid
    WHERE d.job_uuid IS NOT DISTINCT FROM EXCLUDED.job_uuid
       OR d.job_uuid IS NULL
       OR NOT EXISTS (
            SELECT 1 FROM queue_job j WHERE j.uuid = d.job_uuid
               AND j.state IN ('wait_dependencies', 'pending', 'enqueued', 'started'))
    RETURNING job_uuid
"""

RELEASE_SQL = """
    DELETE FROM retail_inbound_drain
    WHERE backend_id = %s AND slot = %s AND job_uuid IS NOT DISTINCT FROM %s
    RETURNING backend_id
"""

# Whether message m may be processed now: its time has come, and no earlier
# message of its aggregate (an order, a SKU) is unfinished: one message per
# aggregate at a time, in order, whatever the number of drains.
DUE = """
    (m.next_attempt_at IS NULL OR m.next_attempt_at <= now() AT TIME ZONE 'UTC')
    AND (m.aggregate_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM retail_inbound_message e
        WHERE e.backend_id = m.backend_id AND e.aggregate_key = m.aggregate_key
          AND e.state IN ('queued', 'processing') AND e.id < m.id))"""

# Due messages in arrival order.
DUE_SQL = f"""
    SELECT m.id FROM retail_inbound_message m
    WHERE m.backend_id = %(backend)s AND m.state = 'queued' AND {DUE}
    ORDER BY m.id
    LIMIT %(limit)s
"""

# Skipping those another drain holds.
CLAIM_SQL = DUE_SQL + " FOR UPDATE OF m SKIP LOCKED"

CLAIM_IDS_SQL = """
    SELECT id FROM retail_inbound_message
    WHERE id = ANY(%s) AND state = 'queued'
    ORDER BY id
    FOR UPDATE SKIP LOCKED
"""

# Whether a message is due, and the earliest retry of those waiting: a
# message behind its aggregate's retry is not due (its drain would look for
# it again and again until then), it is processed after that retry.
PENDING_SQL = f"""
    SELECT bool_or({DUE}), min(m.next_attempt_at)
    FROM retail_inbound_message m
    WHERE m.backend_id = %s AND m.state = 'queued'
"""

# Kill recovery, on the worker's autocommit connection (lib/autocommit.py):
# the batch a drain is running, so that the drain that follows a killed one
# knows which messages were in it (their writes were rolled back).
NOTE_BATCH_SQL = """
    INSERT INTO retail_inbound_drain_batch AS b
        (backend_id, slot, batch_ids, isolate_ids)
    VALUES (%(backend)s, %(slot)s, %(ids)s, %(isolate)s)
    ON CONFLICT (backend_id, slot) DO UPDATE
    SET batch_ids = EXCLUDED.batch_ids, isolate_ids = EXCLUDED.isolate_ids
"""

# The batch committed: its messages are processed (a message run alone after
# a kill is not suspected any more).
CLEAR_BATCH_SQL = """
    UPDATE retail_inbound_drain_batch
    SET batch_ids = NULL, suspect_id = NULL, suspect_kills = 0
    WHERE backend_id = %(backend)s AND slot = %(slot)s
"""

READ_BATCH_SQL = """
    SELECT batch_ids, isolate_ids, suspect_id, suspect_kills
    FROM retail_inbound_drain_batch WHERE backend_id = %s AND slot = %s
"""

WRITE_RECOVERY_SQL = """
    UPDATE retail_inbound_drain_batch
    SET batch_ids = NULL, isolate_ids = %(isolate)s, suspect_id = %(suspect)s,
        suspect_kills = %(kills)s
    WHERE backend_id = %(backend)s AND slot = %(slot)s
"""


def batch_size():
    """Messages claimed per transaction (``retail_webhook_drain_batch``)."""
    return positive_int(config.get("retail_webhook_drain_batch"), DEFAULT_BATCH)


def time_budget(job_time_limit):
    """Seconds a drain job runs before it queues its successor
    (``retail_webhook_drain_seconds``), at most half the job time limit so
    that a draining channel is never shown blocked."""
    seconds = positive_int(config.get("retail_webhook_drain_seconds"), DEFAULT_SECONDS)
    return max(1, min(seconds, job_time_limit // 2))


def max_drains():
    """Drains of one backend at once (``retail_webhook_drains_per_backend``);
    its job channel's capacity bounds them too."""
    return positive_int(config.get("retail_webhook_drains_per_backend"), DEFAULT_DRAINS)


def retry_delay(attempts, pattern):
    """Seconds before the next attempt after ``attempts`` attempts, as
    queue_job reads a retry pattern ({from attempt: seconds})."""
    delay = 0
    for threshold in sorted(pattern):
        if attempts >= threshold:
            delay = pattern[threshold]
    return delay


# Backends with due messages whose slot-0 drain is missing or whose job is
# over (the safety net's cron).
ORPHANS_SQL = f"""
    SELECT b.id FROM retail_backend b
    WHERE b.state = 'active'
      AND EXISTS (
        SELECT 1 FROM retail_inbound_message m
        WHERE m.backend_id = b.id AND m.state = 'queued' AND {DUE})
      AND NOT EXISTS (
        SELECT 1 FROM retail_inbound_drain d
        JOIN queue_job j ON j.uuid = d.job_uuid
        WHERE d.backend_id = b.id AND d.slot = 0
          AND j.state IN ('wait_dependencies', 'pending', 'enqueued', 'started'))
"""
