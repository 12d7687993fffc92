from odoo import SUPERUSER_ID, api

PROCESS = "_process"


def migrate(cr, version):
    """One job per message becomes one drain per backend (lib/drains.py).

    Each unfinished message keeps what its job knew: the attempts it made
    (queue_job counted those whose writes were rolled back), the time of its
    next attempt; a message whose worker died during the upgrade is queued
    again. The old jobs are cancelled, whatever their state (their method
    takes arguments it no longer knows), and each backend with queued
    messages gets its drain.
    """
    cr.execute(
        """UPDATE retail_inbound_message m
           SET state = 'queued',
               attempts = GREATEST(m.attempts, COALESCE(j.retry, 0)),
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
    cr.execute(
        """UPDATE queue_job
           SET state = 'cancelled',
               result = 'Replaced by the drain of the backend''s messages.'
           WHERE model_name = 'retail.inbound.message' AND method_name = %s
             AND state NOT IN ('done', 'cancelled')""",
        [PROCESS],
    )
    cr.execute("ALTER TABLE retail_inbound_message DROP COLUMN IF EXISTS job_uuid")
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["retail.inbound.message"].init()  # the drains' tables, before Odoo calls it
    env["retail.backend"]._webhook_rearm_drains()
