import logging

from odoo import _, api, fields, models
from odoo.tools import config

from odoo.addons.queue_job.jobrunner.runner import Database

from ..lib import dead_jobs

_logger = logging.getLogger(__name__)

# queue_job's own lock-based requeue of dead jobs (OCA/queue #716): where the
# installed release has it, the suite adds nothing of its own.
QUEUE_JOB_REQUEUES_DEAD_JOBS = hasattr(Database, "requeue_dead_jobs")
# The exception queue_job's own requeuer fails a job with.
QUEUE_JOB_FOUND_DEAD = "JobFoundDead"
KILLED = "retail_integration.WorkerKilled"
KILLED_KEY = "job-worker-killed"


class RetailJobLock(models.Model):
    """The row a running job keeps locked, so that the job runner can tell a
    dead job from a slow one, and how often the worker running it died
    (lib/dead_jobs.py)."""

    _name = "retail.job.lock"
    _description = "Job Lock"
    _log_access = False

    queue_job_id = fields.Many2one(
        "queue.job", required=True, readonly=True, ondelete="cascade"
    )
    kill_count = fields.Integer(
        readonly=True, help="Times the worker running the job died since it last ran."
    )
    reported = fields.Boolean(
        readonly=True, help="The exceptions inbox was told the job was failed."
    )

    _sql_constraints = [
        ("queue_job_uniq", "unique(queue_job_id)", "One lock row per job."),
    ]

    @api.depends("queue_job_id")
    def _compute_display_name(self):
        for lock in self:
            lock.display_name = lock.queue_job_id.display_name

    # Running a job (controllers/main.py) ----------------------------------------

    @api.model
    def _prepare_run(self, job):
        """Before queue_job commits ``job`` as started: its lock row exists
        (committed with that state), and how often its worker died."""
        self.env.cr.execute(dead_jobs.INSERT_LOCK_SQL, [job.uuid])
        self.env.cr.execute(dead_jobs.KILL_COUNT_SQL, [job.uuid])
        return self.env.cr.fetchone()[0]

    @api.model
    def _lock(self, job):
        """Lock ``job``'s row for the rest of this transaction; False when
        the job is not started any more (requeued meanwhile) or is locked."""
        self.env.cr.execute(dead_jobs.LOCK_SQL, [job.uuid])
        return bool(self.env.cr.fetchone())

    @api.model
    def _fail_killed_job(self, job, kills):
        """Fail ``job`` instead of running it: its worker was killed ``kills``
        times. The inbox says so, and the job's record hears of it."""
        cause = self._killed_cause(kills)
        job.set_failed(exc_name=KILLED, exc_message=cause, exc_info=cause)
        job.store()
        self._report_killed(job.db_record(), cause)

    @api.model
    def _killed_cause(self, kills):
        return _(
            "The worker running it was killed %(count)s times (time limit or "
            "memory?): it is not run again.",
            count=kills,
        )

    def _report_killed(self, queue_job, cause):
        """File the failed ``queue_job`` in the inbox. A record of the job
        that defines ``_retail_job_killed(exception)`` is the exception's
        source (it says what failed, and how to retry it); else this lock."""
        lock = self.search([("queue_job_id", "=", queue_job.id)])
        lock.write({"kill_count": 0, "reported": True})  # a retry starts afresh
        # sudo: the records of a killed job are told by the watcher, whatever user the
        # job ran as
        records = queue_job.records.exists().sudo()
        owner = len(records) == 1 and hasattr(records, "_retail_job_killed")
        detail = _(
            "Job %(uuid)s, %(function)s on channel %(channel)s; Odoo kills a "
            "worker after limit_time_real (%(limit)s s).",
            uuid=queue_job.uuid,
            function=queue_job.func_string,
            channel=queue_job.channel,
            limit=config.get("limit_time_real"),
        )
        backend = (
            self.env["retail.backend"]
            .with_context(active_test=False)
            .search([("job_channel", "=", queue_job.channel)], limit=1)
        )
        exception = (
            self.env["retail.sync.exception"]
            # sudo: inbox items are filed on the job's behalf
            .sudo()
            ._report(
                cause,
                name=_("Job stopped: %(job)s", job=queue_job.display_name),
                backend=backend,
                detail=detail,
                document=records if len(records) == 1 else None,
                source=records if owner else lock,
                key=KILLED_KEY,
            )
        )
        if owner:
            records._retail_job_killed(exception)
        _logger.warning("job %s failed: %s", queue_job.uuid, cause)
        return exception

    def _retail_exception_retry(self):
        """The inbox's Retry: run the job again."""
        # sudo: requeueing a queue.job is queue_job's managers' right; the inbox's Retry
        # is the Integration User's
        self.sudo().queue_job_id.requeue()

    # queue_job's own requeue -----------------------------------------------------

    @api.model
    def _report_jobs_found_dead(self):
        """File in the inbox the jobs queue_job's own requeuer failed because
        their worker died too often, once each."""
        # sudo: queue.job is readable by queue_job's managers only
        jobs = self.env["queue.job"].sudo()
        self.flush_model()
        self.env.cr.execute(
            """
            UPDATE retail_job_lock lock SET reported = false
            FROM queue_job job
            WHERE lock.reported AND job.id = lock.queue_job_id
              AND job.state != 'failed'
            """
        )
        self.env.cr.execute(
            """
            SELECT job.id FROM queue_job job
            WHERE job.state = 'failed' AND job.exc_name = %s
              AND NOT EXISTS (
                SELECT 1 FROM retail_job_lock lock
                WHERE lock.queue_job_id = job.id AND lock.reported
              )
            """,
            [QUEUE_JOB_FOUND_DEAD],
        )
        self.invalidate_model()
        for queue_job in jobs.browse(row[0] for row in self.env.cr.fetchall()):
            self.env.cr.execute(dead_jobs.INSERT_LOCK_SQL, [queue_job.uuid])
            self._report_killed(queue_job, self._killed_cause(queue_job.retry))
