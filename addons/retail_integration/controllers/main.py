import logging

from odoo import _
from odoo.tools import config

from odoo.addons.queue_job.controllers.main import PG_RETRY, RunJobController
from odoo.addons.queue_job.exception import RetryableJobError

from ..lib import dead_jobs
from ..models.retail_job_lock import QUEUE_JOB_REQUEUES_DEAD_JOBS

_logger = logging.getLogger(__name__)


class LockLost(Exception):
    """The job was requeued between its start and its lock: not run here."""


class RetailRunJobController(RunJobController):
    """queue_job's runjob, with the job's lock row held while it runs
    (lib/dead_jobs.py), and a lost database connection taken for what it is:
    a transient failure, not the job's."""

    def _try_perform_job(self, env, job):
        try:
            if QUEUE_JOB_REQUEUES_DEAD_JOBS:
                return super()._try_perform_job(env, job)
            return self._retail_perform_locked(env, job)
        except Exception as err:
            if not env.cr._cnx.closed:
                raise
            # PostgreSQL restarted or the connection broke: the transaction
            # is gone, and the job with it; run it again.
            raise RetryableJobError(
                _("The database connection was lost: %(error)s", error=err),
                seconds=PG_RETRY,
            ) from err

    def _retail_perform_locked(self, env, job):
        locks = env["retail.job.lock"]
        kills = locks._prepare_run(job)
        if kills >= dead_jobs.max_kills(config):
            locks._fail_killed_job(job, kills)
            env.cr.commit()
            return None
        perform = job.perform

        def perform_locked():
            # queue_job has just committed the started state: from now until
            # this transaction ends, the lock says the job is alive.
            if not locks._lock(job):
                raise LockLost()
            return perform()

        job.perform = perform_locked
        try:
            return super()._try_perform_job(env, job)
        except LockLost:
            _logger.info("job %s was requeued before it could run here", job.uuid)
            env.cr.rollback()
            return None
