import json
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError

from ..lib import drains
from ..models.retail_inbound_message import RetailInboundMessage, _Drain
from .common import WebhookCase, drain_jobs


def insert(endpoint, n, topic="ping", aggregate_key=None, payload=None, state="queued"):
    return endpoint.env["retail.inbound.message"]._insert_once(
        endpoint,
        topic=topic,
        delivery_id=f"drain-{endpoint.id}-{n}",
        body=json.dumps(payload or {"type": topic, "n": n}),
        body_hash="h",
        headers={},
        state=state,
        correlation_id="c",
        aggregate_key=aggregate_key,
    )


@tagged("retail", "-at_install", "post_install")
class TestDrain(WebhookCase):
    """The message table as the queue: accepted messages wait for their
    backend's drain, which processes them in batches (lib/drains.py)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.endpoint = cls.endpoints["standard"]
        cls.Message = cls.env["retail.inbound.message"]

    def _handlers(self, single=None, batch=None):
        """Patch the handlers of topic ``test.topic``: a function of
        (records, payload), or a batch one of (records, payloads)."""
        values = {
            "_webhook_handlers": lambda records: (
                {("*", "test.topic"): "_handle_test"} if single else {}
            ),
            "_webhook_batch_handlers": lambda records: (
                {("*", "test.topic"): "_handle_test_batch"} if batch else {}
            ),
        }
        if single:
            values["_handle_test"] = single
        if batch:
            values["_handle_test_batch"] = batch
        return patch.multiple(RetailInboundMessage, create=True, **values)

    def _flags(self, slot):
        """The job uuid in the flag of the backend's drain of ``slot``."""
        self.env.cr.execute(drains.OWNER_SQL, [self.backend.id, slot])
        return [row[0] for row in self.env.cr.fetchall()]

    def _release(self, slot):
        """The end of the drain of ``slot`` when it finds nothing to claim
        (whether it ends), its commits kept in the test's transaction."""
        self.env.flush_all()
        [job_uuid] = self._flags(slot)
        drain = _Drain(self.Message, self.backend, slot, job_uuid)
        with patch.object(self.env.cr, "commit", lambda: None):
            return drain._release()

    def test_a_burst_makes_one_drain_and_no_job_per_message(self):
        jobs_before = self.env["queue.job"].search_count([])
        messages = self.Message.browse(
            [insert(self.endpoint, n).id for n in range(1000)]
        )
        self.assertEqual(set(messages.mapped("state")), {"queued"})
        [drain] = drain_jobs(self.env, self.backend)
        self.assertEqual(self.env["queue.job"].search_count([]), jobs_before + 1)
        self.env.cr.execute(
            "SELECT job_uuid FROM retail_inbound_drain WHERE backend_id = %s",
            [self.backend.id],
        )
        self.assertEqual(self.env.cr.fetchall(), [(drain.uuid,)], "the flag names it")
        claimed = self.Message._drain_batch(self.backend, 400)
        self.assertEqual(claimed, messages[:400].ids, "arrival order")
        self.assertEqual(set(messages[:400].mapped("state")), {"done"})
        self.assertEqual(set(messages[400:].mapped("state")), {"queued"})

    def test_a_handler_crashing_on_one_message_leaves_the_others_done(self):
        def handle(records, payload):
            records.env["ir.config_parameter"].set_param(f"drain.{payload['n']}", "1")
            if payload["n"] == 2:
                raise KeyError("line_items")
            return "ok"

        messages = self.Message.browse(
            [insert(self.endpoint, n, topic="test.topic").id for n in range(5)]
        )
        with self._handlers(single=handle):
            self.Message._drain_batch(self.backend, 100)
        self.assertEqual(
            messages.mapped("state"), ["done", "done", "failed", "done", "done"]
        )
        self.assertIn("Unexpected error", messages[2].error)
        params = self.env["ir.config_parameter"]
        self.assertFalse(params.get_param("drain.2"), "its writes rolled back")
        self.assertEqual(params.get_param("drain.3"), "1")

    def test_a_transient_failure_waits_and_its_aggregate_with_it(self):
        def handle(records, payload):
            if payload["n"] == 0 and records.attempts == 0:
                raise RetryableJobError("The channel answered 503", seconds=60)
            return f"did {payload['n']}"

        first, second, other = (
            insert(self.endpoint, n, "test.topic", key)
            for n, key in ((0, "order-1"), (1, "order-1"), (2, "order-2"))
        )
        with self._handlers(single=handle):
            self.Message._drain_batch(self.backend, 100)
            self.assertEqual(
                (first.state, second.state, other.state), ("queued", "queued", "done")
            )
            self.assertTrue(first.next_attempt_at)
            self.assertFalse(self.Message._drain_batch(self.backend, 100))
            first.next_attempt_at = False  # its time has come
            self.Message._drain_batch(self.backend, 100)
            self.assertEqual((first.state, second.state), ("done", "queued"))
            self.Message._drain_batch(self.backend, 100)
        self.assertEqual(second.state, "done", "after its aggregate's earlier one")

    def test_a_message_behind_its_aggregates_retry_is_not_due(self):
        """What a drain reads before it ends: a message behind its
        aggregate's retry is not due (its drain would look for it again and
        again until then); the wake-up is at that retry."""
        first, _second = (
            insert(self.endpoint, n, "test.topic", "order-1") for n in (0, 1)
        )
        first.next_attempt_at = fields.Datetime.now() + timedelta(minutes=30)
        self.env.flush_all()
        self.env.cr.execute(drains.PENDING_SQL, [self.backend.id])
        self.assertEqual(self.env.cr.fetchone(), (False, first.next_attempt_at))
        first.next_attempt_at = False
        self.env.flush_all()
        self.env.cr.execute(drains.PENDING_SQL, [self.backend.id])
        self.assertEqual(self.env.cr.fetchone(), (True, None))

    def test_a_drain_ends_while_a_message_waits_behind_a_retry(self):
        """A drain that finds nothing due ends though a message waits behind
        its aggregate's retry (it went on looking for it until then), and
        queues a wake-up at that retry."""
        first, _second = (
            insert(self.endpoint, n, "test.topic", "order-1") for n in (0, 1)
        )
        first.next_attempt_at = fields.Datetime.now() + timedelta(minutes=30)
        jobs = drain_jobs(self.env, self.backend)
        self.assertTrue(self._release(0))
        self.assertFalse(self._flags(0))
        wake_up = drain_jobs(self.env, self.backend) - jobs
        self.assertEqual(wake_up.eta, first.next_attempt_at)

    def test_a_helper_drain_that_finds_nothing_to_claim_ends(self):
        """A helper drain (slot 1) that finds nothing to claim ends though
        messages are queued (another drain holds them until it commits, or
        they wait for a retry): it neither arms itself again nor queues a
        wake-up. Slot 0's drain, which every accepted message arms, sees
        them and goes on."""
        insert(self.endpoint, 1)
        retry = insert(self.endpoint, 2)
        retry.next_attempt_at = fields.Datetime.now() + timedelta(minutes=30)
        self.Message._arm_drain(self.backend, self.backend.job_channel, slot=1)
        jobs = drain_jobs(self.env, self.backend)
        self.assertTrue(self._release(1))
        self.assertFalse(self._flags(1))
        self.assertEqual(drain_jobs(self.env, self.backend), jobs, "no wake-up")
        self.assertFalse(self._release(0))
        self.assertTrue(self._flags(0))

    def test_a_message_failed_alone_is_not_taken_for_a_killed_batch(self):
        """A message that fails outside its handler (writing its outcome),
        alone, is failed and its batch note cleared, as after a batch that
        commits: the next drain does not take over from a "killed" one."""
        message = insert(self.endpoint, 1, "test.topic")
        drain = _Drain(self.Message, self.backend, 0, "uuid")
        drain.claimed = [message.id]
        side = []
        with (
            patch.object(_Drain, "_side", lambda _d, query, params: side.append(query)),
            patch.object(self.env.cr, "commit", lambda: None),
        ):
            self.assertEqual(drain._after_error(KeyError("outcome"), None), [])
        self.assertEqual(message.state, "failed")
        self.assertEqual(side, [drains.CLEAR_BATCH_SQL])

    def test_a_batch_handler_takes_a_topics_messages_at_once(self):
        calls = []

        def handle_batch(records, payloads):
            calls.append(records.ids)
            if any(p.get("bad") for p in payloads):
                raise UserError(records.env._("A level without a SKU."))
            return [f"level {p['n']}" for p in payloads]

        good = [insert(self.endpoint, n, "test.topic").id for n in range(3)]
        ping = insert(self.endpoint, 3).id
        bad = insert(self.endpoint, 4, "test.topic", payload={"n": 4, "bad": True}).id
        more = insert(self.endpoint, 5, "test.topic").id
        with self._handlers(batch=handle_batch):
            self.Message._drain_batch(self.backend, 100)
        self.assertEqual(
            calls, [good, [bad, more], [bad], [more]], "consecutive, then alone"
        )
        messages = self.Message.browse([*good, ping, bad, more])
        self.assertEqual(
            messages.mapped("state"), ["done"] * 3 + ["ignored", "failed", "done"]
        )
        self.assertEqual(messages[0].result, "level 0")
        self.assertEqual(messages[4].error, "A level without a SKU.")

    def test_a_message_of_a_paused_backend_waits(self):
        message = insert(self.endpoint, 1, state="received")
        self.assertFalse(self.Message._drain_batch(self.backend, 100))
        self.assertEqual(message.state, "received")

    def test_a_message_kept_while_its_backend_was_activated_is_queued(self):
        """A request that read its backend's state just before the
        activation committed keeps its message as received, after the
        activation queued the others: the safety net's cron queues it."""
        self.backend.state = "active"
        late = insert(self.endpoint, 1, state="received")
        paused = self.backend.copy({"code": "paused_twin", "state": "paused"})
        endpoint = self.endpoint.copy({"backend_id": paused.id})
        waiting = insert(endpoint, 2, state="received")
        self.env["retail.backend"]._webhook_rearm_drains()
        self.assertEqual((late.state, waiting.state), ("queued", "received"))
        self.assertTrue(drain_jobs(self.env, self.backend))
