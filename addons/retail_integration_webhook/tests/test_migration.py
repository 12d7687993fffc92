import importlib.util
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools.misc import file_path
from odoo.tools.sql import column_exists

from odoo.addons.queue_job.job import Job

from ..models.retail_inbound_message import MAX_ATTEMPTS
from .common import WebhookCase, drain_jobs
from .test_drain import insert

DONE_JOB_FIELDS = ["state", "retry", "result", "date_done", "date_cancelled"]
MIGRATION = "retail_integration_webhook/migrations/18.0.1.4.0/end-migrate.py"


def load_migration():
    spec = importlib.util.spec_from_file_location(
        "retail_integration_webhook_end_migrate_1_4_0", file_path(MIGRATION)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("retail", "-at_install", "post_install")
class TestMigrationToDrains(WebhookCase):
    """18.0.1.4.0: the messages of a database that had one ``_process`` job
    per message are handed over to their backend's drain; none is lost."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.endpoint = cls.endpoints["standard"]
        cls.Message = cls.env["retail.inbound.message"]
        cls.backend._ensure_technical_user()
        cls.robot = cls.backend.technical_user_id

    def setUp(self):
        super().setUp()
        # The column of the message's job, as before 18.0.1.4.0 (DDL is
        # transactional: the test's rollback drops it).
        self.env.cr.execute(
            "ALTER TABLE retail_inbound_message ADD COLUMN job_uuid varchar"
        )
        self.now = fields.Datetime.now()
        self.eta = self.now + timedelta(minutes=5)

    def _old_message(self, n, state, attempts=0):
        """A message received before the upgrade, left as its job left it:
        stored as ``received`` so that no drain is armed for it."""
        message = insert(self.endpoint, n, state="received")
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE retail_inbound_message SET state = %s, attempts = %s WHERE id = %s",
            [state, attempts, message.id],
        )
        message.invalidate_recordset(["state", "attempts"])
        return message

    def _old_job(self, message, state, retry=0, eta=None, result=None):
        """The message's ``_process`` job, stored by queue_job itself as the
        module queued it (as the technical user, on the backend's channel,
        with the attempts of the message's earlier jobs), then in ``state``."""
        job = Job(
            message.with_user(self.robot)._process,
            kwargs={"attempts_before": message.attempts},
            eta=eta,
            max_retries=MAX_ATTEMPTS,
            description=f"Process webhook {message.topic}",
            channel=self.backend.job_channel,
        )
        job.retry = retry
        if state == "started":
            job.set_started()
        elif state == "failed":
            job.set_failed(exc_name="RetailJobKilled", exc_info="worker killed")
        elif state == "done":
            job.set_started()
            job.set_done(result=result)
        job.store()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE retail_inbound_message SET job_uuid = %s WHERE id = %s",
            [job.uuid, message.id],
        )
        return self.env["queue.job"].search([("uuid", "=", job.uuid)])

    def _pre_upgrade(self):
        """One message per kind of unfinished (or finished) job."""
        # Retried from the inbox once, then its new job failed twice on a
        # transient error: it waits for its third retry.
        future = self._old_message(1, "queued", attempts=1)
        due = self._old_message(2, "queued")
        # Its worker died in the middle of its attempt, with the upgrade.
        died = self._old_message(3, "processing")
        # retail_integration failed its job (its worker was killed too
        # often) and filed the message in the inbox.
        failed = self._old_message(4, "queued")
        failed._write_outcomes(
            {failed.id: failed._fail(None, self.now, 1, 0, cause="Worker killed.")}
        )
        done = self._old_message(5, "queued")
        done._process()
        self.jobs = {
            "future": self._old_job(future, "pending", retry=2, eta=self.eta),
            "due": self._old_job(due, "pending", eta=self.now - timedelta(minutes=1)),
            "died": self._old_job(died, "started", retry=1),
            "failed": self._old_job(failed, "failed", retry=1),
            "done": self._old_job(done, "done", retry=1, result=done.result),
        }
        return future, due, died, failed, done

    def _migrate(self):
        self.env.flush_all()
        load_migration().migrate(self.env.cr, "18.0.1.3.0")
        self.env.invalidate_all()

    def test_pending_jobs_become_queued_messages_of_the_drain(self):
        messages = future, due, died, failed, done = self._pre_upgrade()
        self.assertTrue(failed.exception_id, "in the exceptions inbox")
        done_job = self.jobs["done"].read(DONE_JOB_FIELDS)
        self._migrate()

        self.assertCountEqual(
            self.Message.search([("endpoint_id", "=", self.endpoint.id)]).ids,
            [m.id for m in messages],
            "no message lost",
        )
        self.assertRecordValues(
            future | due | died | failed | done,
            [
                {"state": "queued", "attempts": 3, "next_attempt_at": self.eta},
                {"state": "queued", "attempts": 0, "next_attempt_at": False},
                {"state": "queued", "attempts": 1, "next_attempt_at": False},
                {"state": "failed", "attempts": 1, "next_attempt_at": False},
                {"state": "done", "attempts": 1, "next_attempt_at": False},
            ],
        )
        for name in ("future", "due", "died", "failed"):
            job = self.jobs[name]
            self.assertEqual(job.state, "cancelled", name)
            self.assertTrue(job.date_cancelled, f"{name}: vacuumed in its time")
        self.assertEqual(self.jobs["done"].read(DONE_JOB_FIELDS), done_job, "untouched")
        self.assertFalse(
            column_exists(self.env.cr, "retail_inbound_message", "job_uuid")
        )
        [drain] = drain_jobs(self.env, self.backend)
        self.env.cr.execute(
            "SELECT job_uuid FROM retail_inbound_drain WHERE backend_id = %s",
            [self.backend.id],
        )
        self.assertEqual(self.env.cr.fetchall(), [(drain.uuid,)], "the flag names it")

        self.Message._drain_batch(self.backend, 100)
        self.assertEqual(
            (future.state, due.state, died.state), ("queued", "done", "done")
        )
        self.assertEqual((due.attempts, died.attempts), (1, 2))
        self.assertFalse(self.Message._drain_batch(self.backend, 100), "not yet")
        future.next_attempt_at = self.now - timedelta(seconds=1)  # its time came
        self.Message._drain_batch(self.backend, 100)
        self.assertEqual((future.state, future.attempts), ("done", 4))

        failed.action_retry()
        self.assertEqual(failed.state, "queued")
        self.Message._drain_batch(self.backend, 100)
        self.assertEqual((failed.state, failed.attempts), ("done", 2))
        self.assertEqual(failed.exception_id.state, "resolved")

    def test_a_backend_whose_messages_all_wait_gets_its_drain(self):
        future = self._old_message(1, "queued")
        self._old_job(future, "pending", retry=1, eta=self.eta)
        self._migrate()
        self.assertRecordValues(
            future, [{"state": "queued", "attempts": 1, "next_attempt_at": self.eta}]
        )
        self.assertEqual(len(drain_jobs(self.env, self.backend)), 1)
