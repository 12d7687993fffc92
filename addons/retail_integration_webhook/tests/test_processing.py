import json
from datetime import datetime, timedelta
from unittest.mock import patch

import psycopg2
import requests
from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError

from ..lib import drains
from ..models.retail_inbound_message import (
    ACCEPT_SQL,
    MAX_ATTEMPTS,
    RETRY_PATTERN,
    RetailInboundMessage,
)
from .common import WebhookCase, drain_jobs


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
        exception.action_retry()
        self.assertEqual((first.state, second.state), ("queued", "queued"))
        self.assertEqual(len(drain_jobs(self.env, self.backend)), 1, "one drain")
        with patch.multiple(
            RetailInboundMessage,
            _webhook_handlers=lambda records: {("*", "orders/create"): "_handle_ping"},
        ):
            first._process()
            self.assertEqual(exception.state, "in_progress", "one message still to go")
            second._process()
        self.assertEqual(exception.state, "resolved")

    def test_transient_failure_backs_off_then_fails_on_the_last_attempt(self):
        message = self._message("orders/create")
        with self._failing_handler(requests.ConnectionError("connection refused")):
            with self.assertRaises(RetryableJobError):
                message._process()
            with freeze_time("2026-12-04 10:00:00"):
                retry = message._process_all()  # as the drain does: no raise
            self.assertIn(message.id, retry)
            self.assertRecordValues(
                message,
                [
                    {
                        "state": "queued",
                        "attempts": 1,
                        "next_attempt_at": datetime(2026, 12, 4, 10, 0, 10),
                        "error": False,
                    }
                ],
            )
            self.assertIn("retried in 10 s: connection refused", message.attempt_log)
            message.attempts = MAX_ATTEMPTS - 1
            message._process()
        self.assertEqual(message.state, "failed")
        self.assertIn("kept failing", message.error)
        self.assertEqual(message.exception_id.kind, "connection")
        self.assertEqual(len(message.attempt_log.splitlines()), 2, "every attempt")

    def test_the_back_off_follows_the_retry_pattern(self):
        self.assertEqual(
            [drains.retry_delay(n, RETRY_PATTERN) for n in range(1, MAX_ATTEMPTS)],
            [10, 10, 60, 60, 300, 300, 1800],
        )

    def test_retry_delay_is_the_errors_own_and_conflicts_fail_at_the_end(self):
        message = self._message("orders/create")
        conflict = RetryableJobError("Another job holds order 1001", seconds=2)
        with self._failing_handler(conflict), freeze_time("2026-12-04 10:00:00"):
            with self.assertRaises(RetryableJobError) as raised:
                message._process()
            self.assertEqual(raised.exception.seconds, 2)
            message._process_all()
        self.assertEqual(message.next_attempt_at, datetime(2026, 12, 4, 10, 0, 2))
        lock = psycopg2.errors.LockNotAvailable("could not obtain lock")
        with self._failing_handler(lock):
            with self.assertRaises(RetryableJobError) as raised:
                message._process()
            self.assertEqual(raised.exception.seconds, 5)
            message.attempts = MAX_ATTEMPTS - 1
            message._process()
        self.assertEqual(message.state, "failed", "not left queued for ever")
        self.assertIn("could not obtain lock", message.error)

    def test_a_wait_that_spends_no_attempt(self):
        message = self._message("orders/create")
        message.attempts = MAX_ATTEMPTS - 1  # even on what would be the last attempt
        wait = RetryableJobError("Order 1001 is being imported", 3, ignore_retry=True)
        with self._failing_handler(wait):
            with self.assertRaises(RetryableJobError) as raised:
                message._process()
        self.assertTrue(raised.exception.ignore_retry)
        self.assertEqual(raised.exception.seconds, 3)
        with self._failing_handler(wait):
            message._process_all()
        self.assertEqual(
            (message.state, message.attempts), ("queued", MAX_ATTEMPTS - 1)
        )
        spent = RetryableJobError("The channel answered 503", 3)
        with self._failing_handler(spent):
            message._process()
        self.assertEqual(message.state, "failed", "a counted retry ends at the last")

    def test_attempts_go_on_after_a_retry(self):
        message = self._message("orders/create")
        with self._failing_handler(UserError("No product has the SKU ABC-1.")):
            message._process()
        self.assertEqual(message.attempts, 1)
        message.action_retry()
        with patch.multiple(
            RetailInboundMessage,
            _webhook_handlers=lambda records: {("*", "orders/create"): "_handle_ping"},
        ):
            message._process()
        self.assertEqual((message.state, message.attempts), ("done", 2))
        self.assertFalse(message.error)
        lines = message.attempt_log.splitlines()
        self.assertEqual(len(lines), 2)
        self.assertIn("attempt 1 · Failed", lines[0])
        self.assertIn("attempt 2 · Done", lines[1])

    def test_unexpected_error_fails_with_plain_words(self):
        message = self._message("orders/create")
        with self._failing_handler(KeyError("line_items")):
            message._process()
        self.assertEqual(message.state, "failed")
        self.assertIn("Unexpected error while processing", message.error)

    def test_retry_from_the_list(self):
        message = self._message("carts/update")
        message._process()
        other = self._message("carts/update")
        other._process()
        (message | other).action_retry()
        self.assertEqual((message.state, other.state), ("queued", "queued"))
        self.assertEqual(len(drain_jobs(self.env, self.backend)), 1)
        with self.assertRaises(UserError):
            message.action_retry()

    def test_no_delay_mode_processes_at_once(self):
        message = self._message(state="received")
        message.with_context(queue_job__no_delay=True)._enqueue()
        self.assertEqual(message.state, "done")
        self.assertFalse(drain_jobs(self.env, self.backend))

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

    def test_a_serialization_failure_keeps_what_the_caller_wrote(self):
        """A message stored in a transaction that wrote something before it
        (a job's catch-up, an expired body key) and refused by PostgreSQL
        with a serialization failure: the failure goes up for the whole
        transaction to run again; nothing it wrote is rolled back behind its
        back while the statement runs again and answers "duplicate"."""
        self.env["ir.config_parameter"].set_param("retail.test.before", "kept")
        cr_class = type(self.env.cr)
        execute = cr_class.execute

        def refuse(cr, query, *args, **kwargs):
            if query == ACCEPT_SQL:
                raise psycopg2.errors.SerializationFailure("could not serialize")
            return execute(cr, query, *args, **kwargs)

        values = dict(
            topic="ping", body="{}", body_hash="h", headers={}, state="queued"
        )
        with (
            patch.object(cr_class, "execute", refuse),
            self.assertRaises(psycopg2.errors.SerializationFailure),
        ):
            self.Message._insert_once(
                self.endpoint, delivery_id="refused", correlation_id="c", **values
            )
        self.assertEqual(
            self.env["ir.config_parameter"].get_param("retail.test.before"), "kept"
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
