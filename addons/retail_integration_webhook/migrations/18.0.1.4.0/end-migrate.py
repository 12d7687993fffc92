from odoo import SUPERUSER_ID, api

PROCESS = "_process"


def migrate(cr, version):
    """One job per message becomes one drain per backend (lib/drains.py).

    Each unfinished message keeps what its job knew: the attempts it made
    (those of its earlier jobs, on the message, and those of its job that
    queue_job counted while their writes were rolled back), the time of its
    next attempt; a message whose worker died during the upgrade is queued
    again. The old jobs are cancelled, whatever their state (their method
    takes arguments it no longer knows), and each backend with queued
    messages gets its drain.
    """
    cr.execute(
        """UPDATE retail_inbound_message m
           SET state = 'queued',
               attempts = m.attempts + COALESCE(j.retry, 0),
               next_attempt_at = CASE
                   WHEN j.state = 'pending' AND j.eta > now() AT TIME ZONE 'UTC'
                   THEN j.eta END
           FROM queue_job j
           WHERE j.uuid = m.job_uuid AND m.state IN ('queued', 'processing')"""
    )
    cr.execute(
        """UPDATE retail_inbound_message SET state = 'queued'
           WHERE state = 'processing'"""
    )
    # As queue_job cancels a job: its autovacuum deletes it after its
    # channel's removal interval, counted from date_cancelled.
    cr.execute(
        """UPDATE queue_job
           SET state = 'cancelled', date_cancelled = now() AT TIME ZONE 'UTC',
               result = 'Replaced by the drain of the backend''s messages.'
           WHERE model_name = 'retail.inbound.message' AND method_name = %s
             AND state NOT IN ('done', 'cancelled')""",
        [PROCESS],
    )
    cr.execute("ALTER TABLE retail_inbound_message DROP COLUMN IF EXISTS job_uuid")
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["retail.inbound.message"].init()  # the drains' tables, before Odoo calls it
    _arm_drains(env)


def _arm_drains(env):
    """A drain, and its flag, for each active backend with queued messages,
    due or not: one that finds none due queues its wake-up at the earliest
    next attempt (the safety net's cron only sees due messages)."""
    env.cr.execute(
        """SELECT DISTINCT m.backend_id FROM retail_inbound_message m
           JOIN retail_backend b ON b.id = m.backend_id
           WHERE m.state = 'queued' AND b.state = 'active'"""
    )
    Message = env["retail.inbound.message"]
    for backend in env["retail.backend"].browse([row[0] for row in env.cr.fetchall()]):
        Message._arm_drain(backend, backend.job_channel)
