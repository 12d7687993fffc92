import json
from datetime import timedelta
from unittest.mock import patch

import psycopg2
import requests
from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.models.queue_job import QueueJob
from odoo.addons.queue_job.tests.common import trap_jobs

from ..models.retail_inbound_message import MAX_ATTEMPTS, RetailInboundMessage
from .common import WebhookCase


@tagged("retail", "-at_install", "post_install")
class TestProcessing(WebhookCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Message = cls.env["retail.inbound.message"]
        cls.endpoint = cls.endpoints["standard"]
        cls.robot = cls.backend.technical_user_id

    def _message(self, topic="ping", delivery_id=None, state="queued", payload=None):
        delivery_id = delivery_id or f"d-{topic}-{self.Message.search_count([])}"
        body = json.dumps(payload or {"type": topic, "data": {}})
        message = self.Message._insert_once(
            self.endpoint,
            topic=topic,
            delivery_id=delivery_id,
            body=body,
            body_hash="h",
            headers={},
            state=state,
            correlation_id="c",
        )
        if state == "queued":
            message._enqueue()
        return message

    def _failing_handler(self, error):
        def handlers(records):
            return {("*", "orders/create"): "_handle_test_failure"}

        def handle(records, payload):
            raise error

        return patch.multiple(
            RetailInboundMessage,
            _webhook_handlers=handlers,
            _handle_test_failure=handle,
            create=True,
        )

    def test_ping_is_processed(self):
        message = self._message()
        message._process()
        self.assertEqual(message.state, "done")
        self.assertEqual(message.result, "Ping received.")
        self.assertEqual(message.attempts, 1)
        self.assertTrue(message.processed_at)

    def test_unknown_topic_is_kept_and_marked_not_an_error(self):
        message = self._message("carts/update")
        result = message._process()
        self.assertEqual(message.state, "ignored")
        self.assertIn("No handler for topic carts/update", result)
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id)]
            )
        )

    def test_processing_twice_does_nothing_more(self):
        message = self._message()
        message._process()
        self.assertIn("Nothing to do", message._process())
        self.assertEqual(message.attempts, 1)

    def test_permanent_failure_goes_to_the_inbox_once_per_cause(self):
        first = self._message("orders/create")
        second = self._message("orders/create")
        with self._failing_handler(UserError("No product has the SKU ABC-1.")):
            first._process()
            second._process()
        self.assertEqual((first.state, second.state), ("failed", "failed"))
        self.assertEqual(first.error, "No product has the SKU ABC-1.")
        self.assertIn("UserError", first.error_detail)
        exception = first.exception_id
        self.assertEqual(second.exception_id, exception)
        self.assertRecordValues(
            exception,
            [
                {
                    "kind": "data",
                    "occurrence_count": 2,
                    "state": "new",
                    "retryable": True,
                }
            ],
        )
        self.assertIn("Processing failed", first.message_ids[0].body)

    def test_inbox_retry_reruns_every_held_message_and_success_resolves(self):
        first = self._message("orders/create")
        second = self._message("orders/create")
        with self._failing_handler(UserError("No product has the SKU ABC-1.")):
            first._process()
            second._process()
        exception = first.exception_id
        with trap_jobs() as trap:
            exception.action_retry()
            trap.assert_jobs_count(2)
        self.assertEqual((first.state, second.state), ("queued", "queued"))
        with patch.multiple(
            RetailInboundMessage,
            _webhook_handlers=lambda records: {("*", "orders/create"): "_handle_ping"},
        ):
            first._process()
            self.assertEqual(exception.state, "in_progress", "one message still to go")
            second._process()
        self.assertEqual(exception.state, "resolved")

    def test_transient_failure_retries_then_fails_on_the_last_attempt(self):
        message = self._message("orders/create")
        with self._failing_handler(requests.ConnectionError("connection refused")):
            with self.assertRaises(RetryableJobError):
                message._process()
            job = self.env["queue.job"].search([("uuid", "=", message.job_uuid)])
            job.retry = job.max_retries - 1
            message._process()
        self.assertEqual(message.state, "failed")
        self.assertIn("kept failing", message.error)
        self.assertEqual(message.exception_id.kind, "connection")

    def test_retry_delay_is_the_errors_own_and_conflicts_fail_at_the_end(self):
        message = self._message("orders/create")
        job = self.env["queue.job"].search([("uuid", "=", message.job_uuid)])
        conflict = RetryableJobError("Another job holds order 1001", seconds=2)
        with self._failing_handler(conflict):
            with self.assertRaises(RetryableJobError) as raised:
                message._process()
        self.assertEqual(raised.exception.seconds, 2)
        lock = psycopg2.errors.LockNotAvailable("could not obtain lock")
        with self._failing_handler(lock):
            with self.assertRaises(RetryableJobError) as raised:
                message._process()
            self.assertEqual(raised.exception.seconds, 5)
            job.retry = job.max_retries - 1
            message._process()
        self.assertEqual(message.state, "failed", "not left queued with a dead job")
        self.assertIn("could not obtain lock", message.error)

    def test_a_wait_that_spends_no_attempt_is_passed_to_queue_job(self):
        message = self._message("orders/create")
        job = self.env["queue.job"].search([("uuid", "=", message.job_uuid)])
        job.retry = job.max_retries - 1  # even on what would be the last attempt
        wait = RetryableJobError("Order 1001 is being imported", 3, ignore_retry=True)
        with self._failing_handler(wait):
            with self.assertRaises(RetryableJobError) as raised:
                message._process()
        self.assertTrue(raised.exception.ignore_retry)
        self.assertEqual(raised.exception.seconds, 3)
        self.assertNotEqual(message.state, "failed")
        spent = RetryableJobError("The channel answered 503", 3)
        with self._failing_handler(spent):
            message._process()
        self.assertEqual(message.state, "failed", "a counted retry ends at the last")

    def test_attempts_count_the_rolled_back_ones_and_earlier_jobs(self):
        message = self._message("orders/create")
        job = self.env["queue.job"].search([("uuid", "=", message.job_uuid)])
        job.retry = 2  # two attempts postponed, their writes rolled back
        with self._failing_handler(UserError("No product has the SKU ABC-1.")):
            message._process()
        self.assertEqual(message.attempts, 3)
        message.action_retry()
        message._process(attempts_before=message.attempts)  # as the new job does
        self.assertEqual(message.attempts, 4)

    def test_unexpected_error_fails_with_plain_words(self):
        message = self._message("orders/create")
        with self._failing_handler(KeyError("line_items")):
            message._process()
        self.assertEqual(message.state, "failed")
        self.assertIn("Unexpected error while processing", message.error)

    def test_retry_from_the_list(self):
        message = self._message("carts/update")
        message._process()
        with trap_jobs() as trap:
            message.action_retry()
            trap.assert_jobs_count(1)
        self.assertEqual(message.state, "queued")
        with self.assertRaises(UserError):
            message.action_retry()

    def test_jobs_run_through_queue_job(self):
        with trap_jobs() as trap:
            message = self._message()
            trap.assert_jobs_count(1)
            self.assertEqual(trap.enqueued_jobs[0].channel, "root.retail.hook_shop")
            self.assertFalse(  # trapped: stored nowhere, as with_delay's
                self.env["queue.job"].search([("uuid", "=", message.job_uuid)])
            )
            trap.perform_enqueued_jobs()
        self.assertEqual(message.state, "done")

    def _job_row(self, uuid):
        self.env.flush_all()
        self.env.cr.execute("SELECT * FROM queue_job WHERE uuid = %s", [uuid])
        columns = [column.name for column in self.env.cr.description]
        return dict(zip(columns, self.env.cr.fetchone(), strict=True))

    def test_the_job_row_is_the_one_with_delay_writes(self):
        """The accept path writes queue_job's row itself: the same row, every
        column, as queue_job's own with_delay() for the same call."""
        message = self._message(state="received")
        with patch.object(QueueJob, "create", side_effect=AssertionError):
            message._delay_processing(  # not through the ORM: the INSERT
                "root.retail.hook_shop", "ping", self.robot, attempts_before=2
            )
        ours = self._job_row(message.job_uuid)
        theirs = self._job_row(
            message.with_user(self.robot)
            .with_delay(
                channel="root.retail.hook_shop",
                max_retries=MAX_ATTEMPTS,
                description="Process webhook ping",
            )
            ._process(attempts_before=2)
            .uuid
        )
        differ = {"id", "uuid", "date_created"}
        self.assertEqual(
            {k: v for k, v in ours.items() if k not in differ},
            {k: v for k, v in theirs.items() if k not in differ},
        )
        self.assertEqual(
            (ours["state"], ours["channel"], ours["func_string"]),
            (
                "pending",
                "root.retail.hook_shop",
                f"retail.inbound.message({message.id},)._process(attempts_before=2)",
            ),
        )
        Job.load(self.env, message.job_uuid).perform()
        self.assertEqual((message.state, message.attempts), ("done", 3))

    def test_a_module_overriding_job_creation_still_creates_the_job(self):
        jobs_class = type(self.env["queue.job"])
        original = jobs_class.create
        created = []

        def create(records, vals_list):
            created.append(vals_list)
            return original(records, vals_list)

        with patch.object(jobs_class, "create", create):
            message = self._message()
        self.assertEqual(len(created), 1)
        job = self.env["queue.job"].search([("uuid", "=", message.job_uuid)])
        self.assertEqual(job.state, "pending")

    def test_no_delay_mode_processes_at_once(self):
        message = self._message(state="received")
        message.with_context(queue_job__no_delay=True)._delay_processing(
            "root.retail.hook_shop", "ping", self.robot
        )
        self.assertEqual(message.state, "done")
        self.assertFalse(message.job_uuid)

    def test_retention_cleans_processed_messages_only(self):
        old_done = self._message()
        old_done._process()
        old_failed = self._message("orders/create")
        old_failed.write({"state": "failed"})
        recent = self._message()
        recent._process()
        long_ago = fields.Datetime.now() - timedelta(days=31)
        (old_done | old_failed).write({"received_at": long_ago})
        with freeze_time(fields.Datetime.now()):
            self.assertEqual(self.Message._gc_processed(), 1)
        self.assertFalse(old_done.exists())
        self.assertTrue(old_failed.exists() and recent.exists())

    def test_a_deleted_message_leaves_a_tombstone_that_refuses_it_again(self):
        """A captured delivery replayed after its message's retention is still
        a duplicate; the tombstone itself goes after its horizon."""
        message = self._message(delivery_id="kept-for-400-days")
        message._process()
        message.received_at = fields.Datetime.now() - timedelta(days=31)
        self.Message._gc_processed()
        self.assertFalse(message.exists())
        again = dict(topic="ping", body="{}", body_hash="h", headers={})
        again.update(state="queued", correlation_id="c2")
        self.assertIsNone(
            self.Message._insert_once(
                self.endpoint, delivery_id="kept-for-400-days", **again
            )
        )
        outcome = self.endpoint._answer_duplicate("kept-for-400-days", "h")
        self.assertEqual((outcome.status, outcome.body), (200, {"status": "duplicate"}))
        Tombstone = self.env["retail.inbound.tombstone"]
        tombstone = Tombstone.search([("delivery_id", "=", "kept-for-400-days")])
        self.assertEqual(tombstone.endpoint_id, self.endpoint)
        tombstone.received_at = fields.Datetime.now() - timedelta(days=401)
        self.Message._gc_processed()
        self.assertFalse(tombstone.exists())
        self.assertTrue(
            self.Message._insert_once(
                self.endpoint, delivery_id="kept-for-400-days", **again
            )
        )

    def test_the_endpoints_chatter_and_messages_are_apart(self):
        """An endpoint's chatter (mail.thread's message_ids) is its notes; its
        inbound messages are counted apart, and creating one through the ORM
        with the chatter in cache works."""
        self.endpoint.message_post(body="Secret rotated with the channel.")
        self.assertIn("Secret rotated", self.endpoint.message_ids[0].body)
        before = self.endpoint.message_count
        self.Message.create(
            {
                "endpoint_id": self.endpoint.id,
                "backend_id": self.backend.id,
                "company_id": self.endpoint.company_id.id,
                "delivery_id": "orm-created",
                "received_at": "2026-12-01 10:00:00",
                "state": "done",
            }
        )
        self.endpoint.invalidate_recordset(["message_count"])
        self.assertEqual(self.endpoint.message_count, before + 1)
        self.assertEqual(self.endpoint.message_ids._name, "mail.message")
