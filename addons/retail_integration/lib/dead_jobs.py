"""Jobs whose worker died: found by proof, requeued once, counted.

queue_job 18.0.1.7.0.1 marks a job started, commits, then runs it in the same
worker process. When that process dies (Odoo's SIGKILL at ``limit_time_real``,
the OOM killer, a container restart), the job stays ``started`` for ever and
holds a slot of its channel. Later queue_job releases (OCA/queue #716) prove
the death with a lock, and this module is the same design for the releases
without it:

- while a job runs, its transaction keeps its row of ``retail_job_lock``
  locked (``LOCK_SQL``, taken on the job's cursor right after queue_job
  commits the started state); the lock goes exactly when that transaction
  does: with the process, or with its database connection;
- a watcher in the job runner's process, every ``interval`` seconds, sets
  back to pending the started jobs whose row it can lock without waiting
  (``SKIP LOCKED``) and counts a kill for each (``REQUEUE_SQL``). A job that
  is merely slow keeps its lock and is never touched. Enqueued jobs no worker
  took up (a runner killed between enqueuing a job and its HTTP call) are
  set back to pending too, after ``ENQUEUED_GRACE`` seconds, without a kill.

The Odoo layer (``models/retail_job_lock.py``) fails a job once its worker
was killed ``max_kills`` times, so that one poisonous message cannot kill
workers for ever.
"""

import logging
import threading
from contextlib import closing

from .options import positive_int

_logger = logging.getLogger(__name__)

# queue_job's own requeuer waits as long for an enqueued job to start.
ENQUEUED_GRACE = 10
# A started job's lock is taken right after its started state is committed;
# the worker checks the state under the lock, so this only avoids churn.
STARTED_GRACE = 2
DEFAULT_INTERVAL = 60
DEFAULT_MAX_KILLS = 3
DEFAULT_TIME_LIMIT = 120

INSERT_LOCK_SQL = """
    INSERT INTO retail_job_lock (queue_job_id, kill_count)
    SELECT id, 0 FROM queue_job WHERE uuid = %s
    ON CONFLICT (queue_job_id) DO NOTHING
"""

KILL_COUNT_SQL = """
    SELECT lock.kill_count FROM retail_job_lock lock
    JOIN queue_job job ON job.id = lock.queue_job_id
    WHERE job.uuid = %s
"""

LOCK_SQL = """
    SELECT lock.id FROM retail_job_lock lock
    JOIN queue_job job ON job.id = lock.queue_job_id
    WHERE job.uuid = %s AND job.state = 'started'
    FOR NO KEY UPDATE OF lock SKIP LOCKED
"""

# Started jobs without a lock row (started by code without this module) are
# never requeued: there is no proof that they are dead.
REQUEUE_SQL = """
    WITH dead AS (
        SELECT job.id, job.state = 'started' AS killed, job.worker_pid
        FROM queue_job job
        WHERE (
            job.state = 'started'
            AND job.date_started
                < (now() AT TIME ZONE 'UTC') - make_interval(secs => %(started)s)
            AND job.id IN (
                SELECT lock.queue_job_id FROM retail_job_lock lock
                WHERE lock.queue_job_id = job.id
                FOR NO KEY UPDATE SKIP LOCKED
            )
        ) OR (
            job.state = 'enqueued'
            AND job.date_enqueued
                < (now() AT TIME ZONE 'UTC') - make_interval(secs => %(enqueued)s)
        )
        FOR NO KEY UPDATE OF job SKIP LOCKED
    ), counted AS (
        UPDATE retail_job_lock lock SET kill_count = lock.kill_count + 1
        FROM dead
        WHERE dead.killed AND lock.queue_job_id = dead.id
        RETURNING lock.queue_job_id, lock.kill_count
    )
    UPDATE queue_job job
    SET state = 'pending',
        retry = COALESCE(job.retry, 0) + CASE WHEN dead.killed THEN 1 ELSE 0 END,
        date_enqueued = NULL,
        date_started = NULL,
        worker_pid = NULL
    FROM dead LEFT JOIN counted ON counted.queue_job_id = dead.id
    WHERE job.id = dead.id
    RETURNING job.uuid, job.channel, dead.killed, dead.worker_pid, counted.kill_count
"""


def check_interval(config):
    """Seconds between two looks for dead jobs (``retail_dead_job_interval``)."""
    return positive_int(config.get("retail_dead_job_interval"), DEFAULT_INTERVAL)


def max_kills(config):
    """Kills after which a job fails (``retail_dead_job_max_kills``)."""
    return positive_int(config.get("retail_dead_job_max_kills"), DEFAULT_MAX_KILLS)


def job_time_limit(config):
    """Seconds a job may run before its channel counts as blocked
    (``retail_job_time_limit``, else Odoo's ``limit_time_real``)."""
    return positive_int(
        config.get("retail_job_time_limit"),
        positive_int(config.get("limit_time_real"), DEFAULT_TIME_LIMIT),
    )


def is_blocked(started_at, now, limit):
    """Whether a channel whose oldest running job started at ``started_at``
    is blocked: that job has run longer than ``limit`` seconds."""
    return started_at is not None and (now - started_at).total_seconds() > limit


def requeue_dead_jobs(cr):
    """Requeue the dead jobs of the database of ``cr``; one dict per job."""
    cr.execute("SELECT to_regclass('retail_job_lock')")
    if cr.fetchone()[0] is None:  # the suite is not installed there
        return []
    cr.execute(REQUEUE_SQL, {"started": STARTED_GRACE, "enqueued": ENQUEUED_GRACE})
    keys = ("uuid", "channel", "killed", "worker_pid", "kill_count")
    return [dict(zip(keys, row, strict=True)) for row in cr.fetchall()]


class DeadJobWatcher(threading.Thread):
    """Every ``interval`` seconds, requeue the dead jobs of each database
    ``db_names()`` names, on a connection ``connect(db_name)`` opens."""

    def __init__(self, db_names, connect, interval):
        super().__init__(name="retail-dead-job-watcher", daemon=True)
        self.db_names = db_names
        self.connect = connect
        self.interval = interval
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.wait(self.interval):
            self.check()

    def stop(self):
        self._stop_event.set()

    def check(self):
        try:
            db_names = list(self.db_names())
        except RuntimeError:  # the runner changed its databases meanwhile
            return
        for db_name in db_names:
            try:
                with closing(self.connect(db_name)) as cnx:
                    with cnx, cnx.cursor() as cr:  # commits, or rolls back
                        jobs = requeue_dead_jobs(cr)
            except Exception:
                # the database may be restarting: next time
                _logger.warning(
                    "could not look for dead jobs in %s", db_name, exc_info=True
                )
                continue
            for job in jobs:
                log_requeued(db_name, job)


def log_requeued(db_name, job):
    if job["killed"]:
        _logger.warning(
            "job %s (channel %s, db %s): its transaction is gone (worker pid %s "
            "killed, or its database connection lost); requeued, %s time(s) so far",
            job["uuid"],
            job["channel"],
            db_name,
            job["worker_pid"],
            job["kill_count"],
        )
    else:
        _logger.warning(
            "job %s (channel %s, db %s) was enqueued but never started; requeued",
            job["uuid"],
            job["channel"],
            db_name,
        )


def watch_from_runner(runner_class, connect, interval):
    """Patch ``runner_class.run`` (queue_job's ``QueueJobRunner``) once so that
    a ``DeadJobWatcher`` runs beside it, on the databases the runner holds
    (it holds a database's master lock, so one watcher per database)."""
    original = runner_class.run
    if getattr(original, "_retail_watched", False):
        return runner_class

    def run(self):
        watcher = DeadJobWatcher(lambda: list(self.db_by_name), connect, interval)
        watcher.start()
        try:
            return original(self)
        finally:
            watcher.stop()

    run._retail_watched = True
    run.__wrapped__ = original
    runner_class.run = run
    return runner_class
