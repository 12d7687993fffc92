import threading
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.tests import BaseCase, tagged

from odoo.addons.queue_job.job import Job

from ..lib import dead_jobs
from ..models import retail_backend_jobs
from .common import RetailCase


@tagged("retail", "-at_install", "post_install")
class TestDeadJobSettings(BaseCase):
    def test_settings_come_from_the_configuration_with_defaults(self):
        self.assertEqual(dead_jobs.check_interval({}), 60)
        self.assertEqual(dead_jobs.check_interval({"retail_dead_job_interval": "5"}), 5)
        self.assertEqual(
            dead_jobs.check_interval({"retail_dead_job_interval": "0"}), 60
        )
        self.assertEqual(dead_jobs.max_kills({"retail_dead_job_max_kills": "x"}), 3)
        self.assertEqual(dead_jobs.max_kills({"retail_dead_job_max_kills": 5}), 5)
        self.assertEqual(dead_jobs.job_time_limit({"limit_time_real": 300}), 300)
        self.assertEqual(dead_jobs.job_time_limit({"limit_time_real": 0}), 120)
        self.assertEqual(
            dead_jobs.job_time_limit(
                {"limit_time_real": 300, "retail_job_time_limit": "90"}
            ),
            90,
        )

    def test_a_channel_is_blocked_once_its_oldest_job_passes_the_limit(self):
        now = datetime(2026, 1, 1, 12, 0, 0)
        self.assertFalse(dead_jobs.is_blocked(None, now, 120))
        self.assertFalse(dead_jobs.is_blocked(now - timedelta(seconds=120), now, 120))
        self.assertTrue(dead_jobs.is_blocked(now - timedelta(seconds=121), now, 120))

    def test_the_watcher_runs_beside_the_runner_and_survives_a_database_down(self):
        connected = []

        def connect(db_name):
            connected.append(db_name)
            raise OSError("the database is restarting")

        class Runner:
            db_by_name = {"db1": None}

            def run(self):
                self.watcher = next(
                    t
                    for t in threading.enumerate()
                    if isinstance(t, dead_jobs.DeadJobWatcher)
                )
                self.watcher.check()  # logs, does not raise
                return "ran"

        dead_jobs.watch_from_runner(Runner, connect, interval=3600)
        dead_jobs.watch_from_runner(Runner, connect, interval=3600)  # once only
        self.assertFalse(hasattr(Runner.run.__wrapped__, "__wrapped__"))
        runner = Runner()
        with self.assertLogs(dead_jobs.__name__, "WARNING"):
            self.assertEqual(runner.run(), "ran")
        self.assertEqual(connected, ["db1"])
        runner.watcher.join(5)
        self.assertFalse(runner.watcher.is_alive(), "it stops with the runner")


@tagged("retail", "-at_install", "post_install")
class TestDeadJobRequeue(RetailCase):
    """The requeue query and the inbox, on real PostgreSQL rows."""

    def _job(self, state, age, lock=True):
        """A job of the backend's channel in ``state`` since ``age`` seconds."""
        job = self.backend._with_delay(self.env["queue.job"])._test_job()
        column = "date_started" if state == "started" else "date_enqueued"
        self.env.cr.execute(
            f"""UPDATE queue_job SET state = %s,
                    {column} = (now() AT TIME ZONE 'UTC') - make_interval(secs => %s)
                WHERE uuid = %s""",  # noqa: S608 - a column name of ours
            [state, age, job.uuid],
        )
        if lock:
            self.env.cr.execute(dead_jobs.INSERT_LOCK_SQL, [job.uuid])
        self.env.invalidate_all()
        return job.uuid

    def _row(self, uuid):
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT job.state, job.retry, lock.kill_count FROM queue_job job
               LEFT JOIN retail_job_lock lock ON lock.queue_job_id = job.id
               WHERE job.uuid = %s""",
            [uuid],
        )
        return self.env.cr.fetchone()

    def test_only_jobs_proved_dead_are_requeued(self):
        dead = self._job("started", 30)
        young = self._job("started", 0)
        unproved = self._job("started", 30, lock=False)
        orphan = self._job("enqueued", 30, lock=False)
        just_enqueued = self._job("enqueued", 0, lock=False)
        requeued = dead_jobs.requeue_dead_jobs(self.env.cr)
        by_uuid = {job["uuid"]: job for job in requeued}
        self.assertEqual(
            set(by_uuid) & {dead, young, unproved, orphan, just_enqueued},
            {dead, orphan},
        )
        self.assertEqual(by_uuid[dead]["kill_count"], 1)
        self.assertFalse(by_uuid[orphan]["killed"])
        self.assertEqual(self._row(dead), ("pending", 1, 1))
        self.assertEqual(self._row(orphan), ("pending", 0, None))
        self.assertEqual(self._row(young), ("started", 0, 0))
        self.assertEqual(self._row(unproved), ("started", 0, None))
        self.assertEqual(dead_jobs.requeue_dead_jobs(self.env.cr), [], "once only")

    def test_a_job_killed_too_often_fails_into_the_inbox_and_can_be_retried(self):
        uuid = self._job("enqueued", 0)
        job = Job.load(self.env, uuid)
        locks = self.env["retail.job.lock"]
        self.assertEqual(locks._prepare_run(job), 0)
        self.env.cr.execute(
            "UPDATE retail_job_lock SET kill_count = 3 WHERE queue_job_id = %s",
            [job.db_record().id],
        )
        self.assertEqual(locks._prepare_run(job), 3)
        locks._fail_killed_job(job, 3)
        record = job.db_record()
        self.assertEqual(record.state, "failed")
        exception = self.env["retail.sync.exception"].search(
            [("source_model", "=", "retail.job.lock")]
        )
        self.assertEqual(len(exception), 1)
        self.assertIn(
            "The worker running it was killed 3 times (time limit or memory?)",
            exception.cause,
        )
        self.assertEqual(exception.backend_id, self.backend)
        self.assertTrue(exception.retryable)
        self.assertEqual(self._row(uuid)[2], 0, "a retry starts afresh")
        exception.action_retry()
        self.assertEqual(record.state, "pending")

    def test_a_blocked_channel_shows_on_the_backend_and_in_the_inbox(self):
        uuid = self._job("started", 600)
        self.assertTrue(self.backend.job_channel_blocked)
        self.assertEqual(self.backend.job_time_limit, dead_jobs.job_time_limit({}))
        self.backend._cron_watch_job_channels()
        exception = self.backend.exception_ids
        self.assertEqual(exception.state, "new")
        self.assertIn(f"{self.backend.job_channel} is blocked", exception.cause)
        self.backend._cron_watch_job_channels()
        self.assertEqual(exception.occurrence_count, 2, "still the same problem")
        dead_jobs.requeue_dead_jobs(self.env.cr)  # its worker had died
        self.backend.invalidate_recordset()
        self.assertFalse(self.backend.job_channel_blocked)
        self.backend._cron_watch_job_channels()
        self.assertEqual(exception.state, "resolved")
        self.assertIn("runs again", exception.message_ids[0].body)
        self.assertEqual(self._row(uuid)[0], "pending")

    def test_jobs_queue_job_itself_found_dead_reach_the_inbox_once(self):
        uuid = self._job("failed", 0, lock=False)
        self.env.cr.execute(
            "UPDATE queue_job SET exc_name = 'JobFoundDead', retry = 6 WHERE uuid = %s",
            [uuid],
        )
        self.env.invalidate_all()
        with patch.object(retail_backend_jobs, "QUEUE_JOB_REQUEUES_DEAD_JOBS", True):
            self.backend._cron_watch_job_channels()
            self.backend._cron_watch_job_channels()
        exception = self.env["retail.sync.exception"].search(
            [("source_model", "=", "retail.job.lock")]
        )
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.occurrence_count, 1)
        self.assertIn("killed 6 times", exception.cause)


@tagged("retail", "-at_install", "post_install")
class TestDeadJobLock(RetailCase):
    """Transactions that commit, as in production: apart from the other tests,
    whose snapshot must not see them."""

    def test_a_running_job_keeps_its_lock_and_is_never_requeued(self):
        """Three transactions as in production: the job's, which holds the
        lock, and the watcher's, before and after the job's ends."""
        with self.committed_env() as env:
            uuid = env["queue.job"].with_delay()._test_job().uuid
            env.cr.execute(
                """UPDATE queue_job SET state = 'started', date_started =
                   (now() AT TIME ZONE 'UTC') - interval '1 hour' WHERE uuid = %s""",
                [uuid],
            )
            env.cr.execute(dead_jobs.INSERT_LOCK_SQL, [uuid])
        try:
            with self.registry.cursor() as running:
                running.execute(dead_jobs.LOCK_SQL, [uuid])
                self.assertTrue(running.fetchone())
                with self.registry.cursor() as watcher:
                    requeued = dead_jobs.requeue_dead_jobs(watcher)
                    self.assertNotIn(uuid, [job["uuid"] for job in requeued])
                running.rollback()  # the worker dies: its transaction goes
            with self.registry.cursor() as watcher:
                requeued = dead_jobs.requeue_dead_jobs(watcher)
            self.assertIn(uuid, [job["uuid"] for job in requeued])
        finally:
            with self.registry.cursor() as cr:
                cr.execute("DELETE FROM queue_job WHERE uuid = %s", [uuid])
