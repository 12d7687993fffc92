import logging

import psycopg2

from odoo.tools import config

from .lib import dead_jobs
from .lib.channels import bound_backend_channels

_logger = logging.getLogger(__name__)


def post_load():
    """In the job runner: bound backend channels (lib/channels.py), and watch
    for jobs whose worker died (lib/dead_jobs.py) where queue_job does not.

    Runs in every process that loads this module; list ``retail_integration``
    in ``server_wide_modules`` so that the job runner's process has it too.
    """
    from odoo.addons.queue_job.jobrunner import runner
    from odoo.addons.queue_job.jobrunner.channels import ChannelManager

    from .models.retail_job_lock import QUEUE_JOB_REQUEUES_DEAD_JOBS

    capacity = int(config.get("retail_channel_capacity") or 1)
    bound_backend_channels(ChannelManager, capacity)
    if QUEUE_JOB_REQUEUES_DEAD_JOBS:
        _logger.info("dead jobs: queue_job's own requeue")
        return

    def connect(db_name):
        info = runner._connection_info_for(db_name)
        return psycopg2.connect(connect_timeout=10, **info)

    interval = dead_jobs.check_interval(config)
    dead_jobs.watch_from_runner(runner.QueueJobRunner, connect, interval)
    _logger.info("dead jobs: Retail Integration's requeue, every %s s", interval)
