from odoo import _, api, fields, models
from odoo.tools import config

from ..lib import dead_jobs
from .retail_job_lock import QUEUE_JOB_REQUEUES_DEAD_JOBS
from .retail_sync_exception import OPEN_STATES

BLOCKED_KIND = "other"
BLOCKED_KEY = "job-channel-blocked"


class RetailBackend(models.Model):
    """Whether the backend's job channel is held by a job that runs for too
    long (a dead worker's, until it is requeued), on the form and in the inbox."""

    _inherit = "retail.backend"

    job_running_since = fields.Datetime(
        compute="_compute_job_watch",
        help="When the oldest job now running in this backend's channel started.",
    )
    job_channel_blocked = fields.Boolean(
        compute="_compute_job_watch",
        help="The oldest running job has run longer than the job time limit.",
    )
    job_time_limit = fields.Integer(
        "Job Time Limit (s)",
        compute="_compute_job_watch",
        help="retail_job_time_limit in the server configuration, else limit_time_real.",
    )
    dead_job_requeue = fields.Char(
        "Dead Jobs", compute="_compute_job_watch", help="Who requeues dead jobs."
    )

    def _compute_job_watch(self):
        limit = dead_jobs.job_time_limit(config)
        if QUEUE_JOB_REQUEUES_DEAD_JOBS:
            requeue = _("Requeued by queue_job's job runner.")
        else:
            requeue = _(
                "Requeued by Retail Integration, within %(seconds)s s of their "
                "worker's death; failed after %(kills)s deaths.",
                seconds=dead_jobs.check_interval(config) + dead_jobs.STARTED_GRACE,
                kills=dead_jobs.max_kills(config),
            )
        oldest = dict(
            self.env["queue.job"]
            # sudo: queue.job is readable by queue_job's managers only; the form shows
            # the backend's own oldest job
            .sudo()
            ._read_group(
                [
                    ("state", "=", "started"),
                    ("channel", "in", [c for c in self.mapped("job_channel") if c]),
                ],
                ["channel"],
                ["date_started:min"],
            )
        )
        now = fields.Datetime.now()
        for backend in self:
            started = oldest.get(backend.job_channel)
            backend.job_running_since = started
            backend.job_channel_blocked = dead_jobs.is_blocked(started, now, limit)
            backend.job_time_limit = limit
            backend.dead_job_requeue = requeue

    @api.model
    def _cron_watch_job_channels(self):
        """File each blocked job channel in the inbox, and close the item once
        the channel runs again; file the jobs queue_job failed as dead."""
        # sudo: the cron files and closes inbox items for every backend, whoever runs it
        exceptions = self.env["retail.sync.exception"].sudo()
        for backend in self.search([("job_channel", "!=", False)]):
            if backend.job_channel_blocked:
                backend._report_blocked_channel()
                continue
            fingerprint = exceptions._fingerprint(
                backend, BLOCKED_KIND, "", BLOCKED_KEY
            )
            stale = exceptions.search(
                [("fingerprint", "=", fingerprint), ("state", "in", OPEN_STATES)]
            )
            if stale:
                stale.write({"state": "resolved"})
                for exc in stale:
                    exc.message_post(
                        body=_(
                            "Resolved: the channel runs again (the job finished, "
                            "or was requeued as its worker had died)."
                        )
                    )
        if QUEUE_JOB_REQUEUES_DEAD_JOBS:
            self.env["retail.job.lock"]._report_jobs_found_dead()

    def _report_blocked_channel(self):
        self.ensure_one()
        job = (
            self.env["queue.job"]
            # sudo: queue.job is readable by queue_job's managers only: the backend's
            # own running job
            .sudo()
            .search(
                [("state", "=", "started"), ("channel", "=", self.job_channel)],
                order="date_started",
                limit=1,
            )
        )
        minutes = (fields.Datetime.now() - self.job_running_since).total_seconds() / 60
        cause = _(
            "The job channel %(channel)s is blocked: its job %(job)s started at "
            "%(started)s UTC and still holds it after %(minutes)s minutes (limit "
            "%(limit)s s). A job whose worker died is requeued automatically; "
            "one that keeps running needs a look.",
            channel=self.job_channel,
            job=job.display_name,
            started=self.job_running_since,
            minutes=round(minutes, 1),
            limit=self.job_time_limit,
        )
        return (
            self.env["retail.sync.exception"]
            # sudo: inbox items are filed on the backend's behalf; its users may only
            # read them
            .sudo()
            ._report(
                cause,
                name=_("Job channel %(channel)s blocked", channel=self.job_channel),
                backend=self,
                kind=BLOCKED_KIND,
                detail=_(
                    "Job %(uuid)s, worker pid %(pid)s",
                    uuid=job.uuid,
                    pid=job.worker_pid,
                ),
                key=BLOCKED_KEY,
            )
        )
