import socket
import time
from datetime import timedelta, timezone
from unittest.mock import patch

import requests
from psycopg2.errors import SerializationFailure
from standardwebhooks.webhooks import Webhook

from odoo import fields
from odoo.tests import common as odoo_common
from odoo.tests import tagged
from odoo.tools import config

from ..lib import ssrf
from ..models.retail_outbox_delivery import CLAIM
from .common import SECRET, OutboxCase, allow_private_urls


@tagged("retail", "post_install", "-at_install")
class TestDispatch(OutboxCase):
    def confirm_orders(self, count):
        orders = self.env["sale.order"]
        for _i in range(count):
            order = self.make_order()
            order.action_confirm()
            self.commit_hooks()
            orders |= order
        return orders

    def assertSoon(self, when, seconds, slack=5):
        expected = fields.Datetime.now() + timedelta(seconds=seconds)
        self.assertLessEqual(abs((when - expected).total_seconds()), slack)

    def open_exceptions(self, source):
        return self.env["retail.sync.exception"].search(
            [
                ("source_model", "=", source._name),
                ("source_id", "in", source.ids),
                ("state", "=", "new"),
            ]
        )

    def waiting_jobs(self):
        """This subscription's dispatch jobs waiting to run."""
        return self.env["queue.job"].search(
            [
                (
                    "identity_key",
                    "like",
                    f"retail_outbox_dispatch:{self.subscription.id}",
                ),
                ("state", "=", "pending"),
            ]
        )

    def dispatch_until_sent(self, count, seconds=5):
        """Run the dispatcher, as its jobs and the cron would, until the
        receiver got ``count`` requests."""
        limit = time.monotonic() + seconds
        while len(self.receiver.received) < count and time.monotonic() < limit:
            self.dispatch()
            time.sleep(0.02)
        self.assertEqual(len(self.receiver.received), count)

    def test_every_delivery_verifies_with_the_reference_library(self):
        self.add_stock(5)
        orders = self.confirm_orders(2)
        self.dispatch()
        deliveries = self.deliveries()
        self.assertEqual(len(self.receiver.received), len(deliveries))
        self.assertTrue(all(r["verified"] for r in self.receiver.received))
        by_id = {r["headers"]["webhook-id"]: r for r in self.receiver.received}
        for event in deliveries.event_id:
            self.assertEqual(by_id[event.uuid]["body"], event._body())
        self.assertEqual(
            {
                r["json"]["data"]["name"]
                for r in self.receiver.received
                if r["json"]["type"] == "order.confirmed"
            },
            set(orders.mapped("name")),
        )
        self.assertEqual(set(self.deliveries().mapped("state")), {"delivered"})
        self.assertEqual(self.subscription.state, "healthy")

    def test_a_forged_signature_fails_the_reference_library(self):
        self.subscription.signing_secret = "whsec_" + "QUJD" * 8
        self.only("order.confirmed")
        self.confirm_orders(1)
        self.dispatch()
        self.assertEqual([r["verified"] for r in self.receiver.received], [False])

    def test_a_rotated_secret_signs_beside_the_old_one_for_the_grace_period(self):
        sub = self.subscription
        self.only("order.confirmed")
        sub.action_rotate_secret()
        new_secret = sub._get_secret("signing_secret")
        self.assertEqual(sub._get_secret("previous_signing_secret"), SECRET)
        self.assertSoon(sub.previous_secret_until, 24 * 3600)
        self.confirm_orders(1)
        self.dispatch()
        [request] = self.receiver.received
        self.assertTrue(request["verified"], "the receiver still has the old secret")
        Webhook(new_secret).verify(request["body"], request["headers"])
        self.assertEqual(len(request["headers"]["webhook-signature"].split()), 2)

        sub.previous_secret_until = fields.Datetime.now() - timedelta(seconds=1)
        self.confirm_orders(1)
        self.dispatch()
        last = self.receiver.received[-1]
        self.assertFalse(last["verified"], "the old secret signs no more")
        Webhook(new_secret).verify(last["body"], last["headers"])
        self.assertFalse(sub.previous_signing_secret_is_set, "forgotten")
        self.assertFalse(sub.previous_secret_until)

    def test_without_grace_the_new_secret_alone_signs(self):
        sub = self.subscription
        self.only("order.confirmed")
        sub.secret_grace_hours = 0
        sub.action_rotate_secret()
        self.assertFalse(sub.previous_signing_secret_is_set)
        self.confirm_orders(1)
        self.dispatch()
        [request] = self.receiver.received
        self.assertFalse(request["verified"])
        Webhook(sub._get_secret("signing_secret")).verify(
            request["body"], request["headers"]
        )

    def test_retry_schedule_then_dead_letter_then_retry_from_inbox(self):
        self.only("order.confirmed")
        self.subscription.write({"retry_schedule": "0, 5m, 2h", "circuit_threshold": 0})
        self.receiver.reply(500)
        order = self.confirm_orders(1)
        self.dispatch()
        delivery = self.deliveries()
        self.assertRecordValues(
            delivery, [{"state": "failed", "attempts": 1, "last_status_code": 500}]
        )
        self.assertSoon(delivery.next_attempt, 300)
        self.dispatch()
        self.assertEqual(delivery.attempts, 1, "not due yet: nothing sent")
        self.make_due()
        self.dispatch()
        self.assertSoon(delivery.next_attempt, 7200)
        self.make_due()
        self.dispatch()
        self.assertRecordValues(delivery, [{"state": "dead", "attempts": 3}])
        self.assertEqual(len(self.receiver.received), 3)
        self.assertEqual(
            len({r["headers"]["webhook-id"] for r in self.receiver.received}), 1
        )
        exception = self.env["retail.sync.exception"].search(
            [("source_model", "=", delivery._name), ("source_id", "=", delivery.id)]
        )
        self.assertRecordValues(
            exception,
            [
                {
                    "state": "new",
                    "kind": "delivery",
                    "res_id": order.id,
                    "retryable": True,
                }
            ],
        )
        self.receiver.reply(200)
        exception.action_retry()
        self.assertEqual(delivery.state, "pending")
        self.dispatch()
        self.assertEqual(delivery.state, "delivered")
        self.assertEqual(exception.state, "resolved")

    def test_410_stops_the_subscription_and_keeps_the_backlog(self):
        self.only("order.confirmed")
        self.receiver.reply(410)
        self.confirm_orders(3)
        self.dispatch()
        self.assertEqual(len(self.receiver.received), 1)
        self.assertRecordValues(
            self.subscription, [{"active": True, "state": "stopped"}]
        )
        self.assertEqual(
            self.deliveries().mapped("state"), ["failed", "pending", "pending"]
        )
        self.assertTrue(self.open_exceptions(self.subscription))
        self.assertEqual(self.dispatch(), "stopped: waits for Resume")
        self.assertEqual(len(self.receiver.received), 1)
        self.receiver.reply(200)
        self.subscription.action_resume()
        self.make_due()
        self.dispatch()
        self.assertEqual(set(self.deliveries().mapped("state")), {"delivered"})

    def test_events_during_a_410_stop_are_sent_on_resume(self):
        """410 -> rename a product -> Resume -> the rename arrives, in order."""
        self.only("product.changed")
        self.receiver.reply(410)
        self.product.name = "Widget, refused"
        self.commit_hooks()
        self.dispatch()
        self.product.name = "Widget, renamed while stopped"
        self.commit_hooks()
        self.assertEqual(len(self.deliveries()), 2, "the rename is queued for it")
        self.assertEqual(self.subscription.state, "stopped")
        exception = self.open_exceptions(self.subscription)
        self.assertIn("nothing is lost", exception.cause)
        self.dispatch()
        self.assertEqual(len(self.receiver.received), 1, "nothing sent while stopped")
        self.receiver.reply(200)
        self.subscription.action_resume()
        self.dispatch()
        self.assertEqual(
            [r["json"]["data"]["name"] for r in self.receiver.received],
            ["Widget, refused", "Widget, refused", "Widget, renamed while stopped"],
        )
        self.assertEqual(set(self.deliveries().mapped("state")), {"delivered"})
        self.assertEqual(exception.state, "resolved")

    def test_an_archived_subscription_gets_no_events(self):
        """Archiving is a person's choice to stop: events are not queued for
        an archived subscription (the documented difference with a stop)."""
        self.only("product.changed")
        self.subscription.active = False
        self.product.name = "Widget, renamed while archived"
        self.commit_hooks()
        self.assertFalse(self.deliveries())
        self.subscription.action_resume()
        self.assertTrue(self.subscription.active)
        self.product.name = "Widget, renamed again"
        self.commit_hooks()
        self.assertEqual(len(self.deliveries()), 1)

    def test_429_honours_retry_after_without_tripping_the_circuit(self):
        self.only("order.confirmed")
        self.receiver.reply(429, {"Retry-After": "120"})
        self.confirm_orders(1)
        self.dispatch()
        delivery = self.deliveries()
        self.assertEqual(delivery.state, "failed")
        self.assertSoon(delivery.next_attempt, 120)
        self.assertEqual(self.subscription.consecutive_failures, 0)

    def test_503_honours_retry_after(self):
        self.only("order.confirmed")
        self.receiver.reply(503, {"Retry-After": "900"})
        self.confirm_orders(1)
        self.dispatch()
        self.assertSoon(self.deliveries().next_attempt, 900)
        self.assertEqual(self.subscription.state, "failing")

    def test_timeout_retries(self):
        self.only("order.confirmed")
        self.subscription.timeout = 1
        self.receiver.reply(200, delay=1.5)
        self.confirm_orders(1)
        self.dispatch()
        delivery = self.deliveries()
        self.assertRecordValues(
            delivery, [{"state": "failed", "attempts": 1, "last_status_code": 0}]
        )
        self.assertIn("1 s", delivery.last_error)
        self.assertSoon(delivery.next_attempt, 5)

    def test_connection_refused_retries(self):
        self.only("order.confirmed")
        self.subscription.url = "http://127.0.0.1:9/nothing-listens"
        self.confirm_orders(1)
        self.dispatch()
        self.assertRecordValues(self.deliveries(), [{"state": "failed", "attempts": 1}])
        self.assertIn("Connection failed", self.deliveries().last_error)

    def test_circuit_pauses_probes_and_resumes(self):
        self.only("order.confirmed")
        self.subscription.circuit_threshold = 2
        self.receiver.reply(503)
        self.confirm_orders(5)
        self.dispatch()
        self.assertEqual(len(self.receiver.received), 2, "paused after 2 failures")
        self.assertEqual(self.subscription.state, "paused")
        self.assertSoon(self.subscription.probe_at, 300)
        exception = self.env["retail.sync.exception"].search(
            [
                ("source_model", "=", self.subscription._name),
                ("source_id", "=", self.subscription.id),
            ]
        )
        self.assertEqual(exception.state, "new")
        self.assertEqual(self.dispatch(), f"paused until {self.subscription.probe_at}")
        self.assertEqual(len(self.receiver.received), 2, "no probe before its time")
        self.make_due()
        self.dispatch()
        self.assertEqual(len(self.receiver.received), 3, "one probe")
        self.assertEqual(self.subscription.times_paused, 2)
        self.assertSoon(self.subscription.probe_at, 600)
        self.receiver.reply(200)
        self.make_due()
        self.dispatch()
        self.assertEqual(self.subscription.state, "healthy")
        self.assertEqual(exception.state, "resolved")
        self.make_due()
        self.dispatch()
        self.assertEqual(set(self.deliveries().mapped("state")), {"delivered"})
        self.assertLessEqual(max(self.deliveries().mapped("attempts")), 3)

    def test_replay_keeps_the_webhook_id(self):
        self.only("order.confirmed")
        self.confirm_orders(2)
        self.dispatch()
        first = self.deliveries()[0]
        first.action_replay()
        self.assertRecordValues(first, [{"state": "pending", "replay_count": 1}])
        self.dispatch()
        ids = [r["headers"]["webhook-id"] for r in self.receiver.received]
        self.assertEqual(ids.count(first.webhook_id), 2)
        self.assertEqual(len(ids), 3)
        self.assertTrue(all(r["verified"] for r in self.receiver.received))

    def test_replay_a_window_from_the_wizard(self):
        self.only("order.confirmed")
        self.confirm_orders(3)
        self.dispatch()
        old = self.deliveries()[0]
        old.event_id.occurred_at = fields.Datetime.now() - timedelta(days=2)
        wizard = self.env["retail.outbox.replay.wizard"].create(
            {
                "subscription_id": self.subscription.id,
                "date_from": fields.Datetime.now() - timedelta(hours=1),
                "date_to": fields.Datetime.now() + timedelta(minutes=1),
            }
        )
        self.assertEqual(wizard.match_count, 2)
        wizard.action_replay()
        self.assertEqual(self.deliveries().mapped("replay_count"), [0, 1, 1])
        self.receiver.received = []
        self.dispatch()
        self.assertEqual(len(self.receiver.received), 2)

    def test_order_per_aggregate_with_a_failing_first_delivery(self):
        self.only("order.confirmed", "order.cancelled")
        order_a, order_b = self.make_order(), self.make_order()
        order_a.action_confirm()
        self.commit_hooks()
        order_a._action_cancel()
        order_b.action_confirm()
        self.commit_hooks()

        def fail_first_of_a(request):
            data = request["json"]
            if (
                data["data"]["name"] == order_a.name
                and data["type"] == "order.confirmed"
            ):
                already = [
                    r
                    for r in self.receiver.received
                    if r["headers"]["webhook-id"] == request["headers"]["webhook-id"]
                ]
                if not already:
                    return 500, {}, 0
            return 200, {}, 0

        self.receiver.answer = fail_first_of_a
        self.dispatch()
        sent = [
            (r["json"]["data"]["name"], r["json"]["type"])
            for r in self.receiver.received
        ]
        self.assertEqual(
            sent,
            [(order_a.name, "order.confirmed"), (order_b.name, "order.confirmed")],
            "A's cancellation waits behind A's failed confirmation; B flows",
        )
        self.make_due()
        self.dispatch()
        sent = [
            (r["json"]["data"]["name"], r["json"]["type"])
            for r in self.receiver.received
        ]
        self.assertEqual(
            sent[2:],
            [(order_a.name, "order.confirmed"), (order_a.name, "order.cancelled")],
        )

    def test_deliveries_behind_a_failed_one_wait_for_its_retry(self):
        """A run that can send nothing because the deliveries due wait behind
        their aggregate's failed one leaves the next run at that one's retry,
        not at once (a job after job until then)."""
        # The run reads what is committed in a transaction of its own: here,
        # the test's (as HttpCase does).
        self.registry.enter_test_mode(self.env.cr)
        self.addCleanup(self.registry.leave_test_mode)
        self.only("order.confirmed", "order.cancelled")
        self.subscription.retry_schedule = "0, 120"
        order = self.make_order()
        order.action_confirm()
        self.commit_hooks()
        order._action_cancel()
        self.commit_hooks()
        self.receiver.reply(500)
        self.waiting_jobs().button_done()
        self.assertEqual(self.dispatch(), "1 sent, state failing")
        confirmed, cancelled = self.deliveries().sorted("sequence")
        self.assertEqual((confirmed.state, cancelled.state), ("failed", "pending"))
        self.waiting_jobs().button_done()  # the look a second after a send
        self.assertEqual(self.dispatch(), "0 sent, state failing")
        [later] = self.waiting_jobs()
        self.assertEqual(later.eta, confirmed.next_attempt)

    def test_a_delivery_changed_since_the_run_began_is_left_to_a_new_run(self):
        """A capture that coalesced into a due delivery after the run's
        transaction began makes PostgreSQL refuse to lock it (a serialization
        failure): the run keeps what it sent, and a run in a new transaction
        takes the rest at once, instead of the whole run failing and sending
        its first batches again."""
        self.only("order.confirmed")
        self.confirm_orders(2)
        self.waiting_jobs().button_done()
        cr_class = type(self.env.cr)
        execute = cr_class.execute
        claims = []

        def refuse_second_claim(cr, query, *args, **kwargs):
            if query == CLAIM:
                claims.append(query)
                if len(claims) == 2:
                    raise SerializationFailure("could not serialize access")
            return execute(cr, query, *args, **kwargs)

        with (
            patch.dict(config.options, {"retail_outbox_batch_size": 1}),
            patch.object(cr_class, "execute", refuse_second_claim),
        ):
            self.assertEqual(self.dispatch(), "1 sent, state healthy")
        self.assertEqual(len(self.receiver.received), 1)
        [now] = self.waiting_jobs()
        self.assertFalse(now.eta, "at once")
        now.button_done()
        self.assertEqual(self.dispatch(), "1 sent, state healthy")
        self.assertEqual(len(self.receiver.received), 2)
        self.assertEqual(set(self.deliveries().mapped("state")), {"delivered"})

    def test_coalescing_under_a_burst(self):
        self.only("stock.level_changed")
        self.subscription.circuit_threshold = 3
        products = self.env["product.product"].create(
            [
                {"name": f"Burst {i}", "default_code": f"B-{i}", "is_storable": True}
                for i in range(5)
            ]
        )
        self.receiver.reply(503)
        for product in products:
            self.add_stock(100, product)
        self.commit_hooks()
        self.dispatch()
        self.assertEqual(self.subscription.state, "paused")
        for step in range(200):
            self.add_stock(-1, products[step % 5])
            self.commit_hooks()
        self.assertEqual(
            len(
                self.env["retail.outbox.event"].search(
                    [("event_type", "=", "stock.level_changed")]
                )
            ),
            205,
        )
        deliveries = self.deliveries()
        self.assertEqual(len(deliveries), 5)
        self.assertEqual(sum(deliveries.mapped("coalesced_count")), 200)
        self.receiver.received = []
        self.receiver.reply(200)
        self.make_due()
        self.dispatch()  # the probe
        self.dispatch()
        self.assertEqual(len(self.receiver.received), 5)
        self.assertEqual(
            {r["json"]["data"]["free_qty"] for r in self.receiver.received}, {60}
        )
        self.assertEqual(set(deliveries.mapped("state")), {"delivered"})

    def test_private_urls_refused_unless_allowed(self):
        self.only("order.confirmed")
        self.confirm_orders(1)
        with allow_private_urls(False):
            self.assertTrue(self.dispatch().startswith("refused"))
        self.assertEqual(self.receiver.received, [])
        self.assertRecordValues(
            self.subscription, [{"state": "stopped", "active": True}]
        )
        self.assertEqual(self.deliveries().state, "pending")
        exception = self.open_exceptions(self.subscription)
        self.assertEqual(exception.kind, "configuration")
        self.confirm_orders(1)
        self.assertEqual(len(self.deliveries()), 2, "events kept while stopped")
        self.subscription.action_resume()
        self.dispatch()
        self.assertEqual(len(self.receiver.received), 2)
        self.assertEqual(set(self.deliveries().mapped("state")), {"delivered"})

    def test_retention_removes_old_delivered_only(self):
        self.only("order.confirmed")
        self.subscription.write({"retry_schedule": "0", "circuit_threshold": 0})
        self.confirm_orders(2)
        self.receiver.answer = lambda r: (
            200 if not self.receiver.received else 500,
            {},
            0,
        )
        self.dispatch()
        delivered, dead = self.deliveries()
        self.assertEqual((delivered.state, dead.state), ("delivered", "dead"))
        old = fields.Datetime.now() - timedelta(days=40)
        delivered.delivered_at = old
        (delivered | dead).event_id.write({"occurred_at": old})
        event = delivered.event_id
        self.assertEqual(self.env["retail.outbox.delivery"]._cron_clean(), (1, 1))
        self.assertFalse(delivered.exists())
        self.assertFalse(event.exists())
        self.assertTrue(dead.exists() and dead.event_id.exists())

    def test_jobs_are_one_per_subscription(self):
        self.only("order.confirmed")
        self.confirm_orders(3)
        jobs = self.env["queue.job"].search(
            [("identity_key", "=", f"retail_outbox_dispatch:{self.subscription.id}")]
        )
        self.assertEqual(len(jobs), 1)
        self.assertEqual(jobs.channel, self.backend.job_channel)
        self.assertEqual(jobs.method_name, "_dispatch")

    def test_dns_rebinding_is_refused_at_connect_time(self):
        """The name is public when the batch is checked and loopback when the
        connection opens: the connection refuses it, nothing is sent."""
        self.only("order.confirmed")
        port = self.receiver.server.server_address[1]
        self.subscription.url = f"http://hooks.rebind.test:{port}/events"
        answers = ["93.184.216.34"]  # then 127.0.0.1, once the TTL is over
        asked = []
        system_resolve = ssrf.default_resolve

        def dns(host, port, type=0):
            if host != "hooks.rebind.test":
                return system_resolve(host, port, type=type)
            asked.append(host)
            address = answers.pop(0) if answers else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

        self.confirm_orders(1)
        with (
            allow_private_urls(False),
            patch.object(ssrf, "default_resolve", dns),
            # Odoo's tests block requests to names other than localhost: the
            # fake DNS above keeps this one on 127.0.0.1.
            patch.object(requests.Session, "send", odoo_common._super_send),
        ):
            self.assertFalse(self.dispatch().startswith("refused"))
        self.assertEqual(len(asked), 2, "checked for the batch, then at connect time")
        self.assertEqual(self.receiver.received, [])
        delivery = self.deliveries()
        self.assertRecordValues(
            delivery, [{"state": "failed", "attempts": 1, "last_status_code": 0}]
        )
        self.assertIn("Refused at connect time", delivery.last_error)
        self.assertIn("127.0.0.1", delivery.last_error)
        self.assertTrue(self.subscription.active)

    # Receiver answers that no column takes ----------------------------------

    def assertStorable(self, text):
        self.assertNotIn("\x00", text)
        text.encode("utf-8")  # no lone surrogate

    def test_an_answer_with_nul_bytes_is_recorded(self):
        """A 200 or a 500 whose body holds NUL and invalid UTF-8 is recorded
        (excerpt made safe), with the rest of the batch; a dead one reaches
        the inbox."""
        self.only("order.confirmed")
        self.subscription.write({"retry_schedule": "0", "circuit_threshold": 0})
        body = b'{"ok": true}\x00\xff\xfe'
        self.receiver.answer = lambda r: (
            200 if len(self.receiver.received) != 1 else 500,
            {},
            0,
            body,
        )
        self.confirm_orders(3)
        self.assertEqual(self.dispatch(), "3 sent, state healthy")
        self.env.flush_all()
        first, second, third = self.deliveries()
        self.assertRecordValues(
            first | second | third,
            [
                {"state": "delivered", "attempts": 1, "last_status_code": 200},
                {"state": "dead", "attempts": 1, "last_status_code": 500},
                {"state": "delivered", "attempts": 1, "last_status_code": 200},
            ],
        )
        for delivery in first | second | third:
            self.assertEqual(delivery.response_excerpt, '{"ok": true}\ufffd\ufffd')
        self.assertEqual(
            self.open_exceptions(second).detail, '{"ok": true}\ufffd\ufffd'
        )

    def test_answers_in_any_charset_are_recorded(self):
        """Charsets that decode to a lone surrogate or a NUL, or whose codec
        cannot replace, and invalid UTF-8: each delivery is recorded."""
        self.only("order.confirmed")
        answers = [
            ("text/plain; charset=unicode_escape", b"\\ud800 \\x00 a"),
            ("text/plain; charset=idna", b"b\xff"),
            ("text/plain; charset=undefined", b"c"),
            ("application/json", b'{"d": "\xc3\x28"}'),
        ]
        self.receiver.answer = lambda r: (
            200,
            {"Content-Type": answers[len(self.receiver.received)][0]},
            0,
            answers[len(self.receiver.received)][1],
        )
        self.confirm_orders(len(answers))
        self.dispatch()
        self.env.flush_all()
        deliveries = self.deliveries()
        self.assertEqual(set(deliveries.mapped("state")), {"delivered"})
        for delivery in deliveries:
            self.assertStorable(delivery.response_excerpt)
        self.assertEqual(
            deliveries.mapped("response_excerpt"),
            ["\ufffd  a", "b\ufffd", "c", '{"d": "\ufffd("}'],
        )

    def test_an_unreadable_retry_after_is_ignored(self):
        """'²' passes str.isdigit() and fails int(): the answer is recorded
        as a 429 without a Retry-After, not an error that fails the job."""
        self.only("order.confirmed")
        self.receiver.reply(429, {"Retry-After": "\xb2"})
        self.confirm_orders(1)
        self.dispatch()
        delivery = self.deliveries()
        self.assertRecordValues(
            delivery, [{"state": "failed", "attempts": 1, "last_status_code": 429}]
        )
        self.assertSoon(delivery.next_attempt, 5)
        self.assertFalse(self.subscription.hold_until)

    # Never before the time asked ---------------------------------------------

    def at_mid_second(self):
        """Wait until half a second past a whole second: a wait cut to whole
        seconds would then come half a second early."""
        time.sleep((1.5 - time.time() % 1) % 1)

    def timestamp(self, when):
        return when.replace(tzinfo=timezone.utc).timestamp()

    def test_retry_after_is_waited_in_full(self):
        self.only("order.confirmed")
        self.receiver.answer = lambda r: (
            (429, {"Retry-After": "1"}, 0)
            if not self.receiver.received
            else (200, {}, 0)
        )
        self.confirm_orders(1)
        self.at_mid_second()
        self.dispatch()
        delivery = self.deliveries()
        first = self.receiver.received[0]
        self.assertGreaterEqual(
            self.timestamp(delivery.next_attempt), first["answered_at"] + 1
        )
        self.dispatch_until_sent(2)
        self.assertGreaterEqual(
            self.receiver.received[1]["received_at"], first["answered_at"] + 1
        )
        self.assertEqual(delivery.state, "delivered")

    def test_a_scheduled_wait_is_waited_in_full(self):
        self.only("order.confirmed")
        self.subscription.retry_schedule = "0, 1s"
        self.receiver.answer = lambda r: (
            500 if not self.receiver.received else 200,
            {},
            0,
        )
        self.confirm_orders(1)
        self.at_mid_second()
        self.dispatch()
        first = self.receiver.received[0]
        self.assertGreaterEqual(
            self.timestamp(self.deliveries().next_attempt), first["answered_at"] + 1
        )
        self.dispatch_until_sent(2)
        self.assertGreaterEqual(
            self.receiver.received[1]["received_at"], first["answered_at"] + 1
        )

    def test_retry_after_holds_the_whole_subscription(self):
        """Retry-After is about the receiver: the rest of the batch waits too,
        and so do deliveries that are due."""
        self.only("order.confirmed")
        self.receiver.reply(429, {"Retry-After": "60"})
        self.confirm_orders(3)
        self.dispatch()
        self.assertEqual(len(self.receiver.received), 1)
        self.assertSoon(self.subscription.hold_until, 60, slack=2)
        self.assertEqual(
            self.deliveries().mapped("state"), ["failed", "pending", "pending"]
        )
        self.deliveries().next_attempt = "2000-01-01 00:00:00"  # due, but held
        self.assertEqual(self.dispatch(), f"held until {self.subscription.hold_until}")
        self.assertEqual(len(self.receiver.received), 1)
        self.waiting_jobs().button_done()  # they ran
        self.env["retail.event.subscription"]._cron_dispatch_due()
        self.assertFalse(self.waiting_jobs(), "the cron leaves a held one alone")
        self.receiver.reply(200)
        self.subscription.hold_until = fields.Datetime.now() - timedelta(seconds=1)
        self.dispatch()
        self.assertEqual(len(self.receiver.received), 4)
        self.assertFalse(self.subscription.hold_until)

    def test_a_probe_answered_429_waits_as_asked(self):
        """A paused subscription's probe answered 429 + Retry-After is not sent
        again before then (it was sent again at once, over and over)."""
        self.only("order.confirmed")
        self.subscription.circuit_threshold = 1
        self.receiver.reply(503)
        self.confirm_orders(2)
        self.dispatch()
        self.assertEqual(self.subscription.state, "paused")
        self.make_due()
        self.receiver.reply(429, {"Retry-After": "1800"})
        self.dispatch()
        self.assertEqual(len(self.receiver.received), 2, "the probe")
        self.dispatch()
        self.assertEqual(len(self.receiver.received), 2, "not again before its time")
        self.assertEqual(self.subscription.state, "paused")
        self.assertSoon(self.subscription.hold_until, 1800, slack=2)
        self.assertGreater(self.subscription.probe_at, fields.Datetime.now())
        self.assertEqual(self.dispatch(), f"held until {self.subscription.hold_until}")

    def test_a_paused_subscription_without_backlog_does_not_spin(self):
        """A paused subscription whose probe time came and that has nothing
        to send enqueues no further run (it enqueued one at once, for ever)."""
        self.only("order.confirmed")
        self.subscription.write({"retry_schedule": "0", "circuit_threshold": 1})
        self.receiver.reply(503)
        self.confirm_orders(1)
        self.dispatch()
        self.assertRecordValues(self.subscription, [{"state": "paused"}])
        self.assertEqual(self.deliveries().state, "dead")
        self.make_due()
        self.waiting_jobs().button_done()  # the one that runs now
        self.assertEqual(self.dispatch(), "0 sent, state paused")
        self.assertFalse(self.waiting_jobs())
        self.env["retail.event.subscription"]._cron_dispatch_due()
        self.assertFalse(self.waiting_jobs())

    def test_a_taken_subscription_is_looked_at_again_soon(self):
        """A run that finds the subscription taken (by a node that may have
        died with it) leaves a run a few seconds later, not the minute cron."""
        self.only("order.confirmed")
        self.confirm_orders(1)
        self.waiting_jobs().button_done()
        Subscription = type(self.subscription)
        with patch.object(Subscription, "_lock", return_value=False):
            self.assertEqual(self.dispatch(), "another dispatcher is running")
            self.assertEqual(self.dispatch(), "another dispatcher is running")
        later = self.waiting_jobs()
        self.assertEqual(len(later), 1, "one waiting run, however many found it")
        self.assertTrue(later.identity_key.endswith(":soon"))
        self.assertSoon(later.eta, 1, slack=2)
        self.assertEqual(self.dispatch(), "1 sent, state healthy")

    def test_a_wake_up_later_does_not_stand_for_a_look_soon(self):
        """A run waiting an hour ahead (a failed delivery's retry) does not
        hide the look a second ahead that a run or a capture asks for."""
        now = fields.Datetime.now()
        self.subscription._enqueue_dispatch(eta=now + timedelta(hours=1))
        self.subscription._enqueue_dispatch(eta=now + timedelta(seconds=1))
        self.subscription._enqueue_dispatch(eta=now + timedelta(seconds=2))
        jobs = self.waiting_jobs().sorted("eta")
        self.assertEqual(
            [job.identity_key.rsplit(":", 1)[1] for job in jobs], ["soon", "later"]
        )
        self.assertSoon(jobs[0].eta, 1, slack=2)

    def test_a_job_started_since_the_capture_began_does_not_stand_for_it(self):
        """A capture whose snapshot shows the dispatch job waiting, when that
        job has started since (PostgreSQL refuses to lock its row), queues a
        job of its own: the started run may not see the capture's
        deliveries."""
        self.only("order.confirmed")
        self.confirm_orders(1)
        [waiting] = self.waiting_jobs()
        cr_class = type(self.env.cr)
        execute = cr_class.execute

        def started_since(cr, query, *args, **kwargs):
            if "FOR KEY SHARE" in query and "FROM queue_job" in query:
                raise SerializationFailure("could not serialize access")
            return execute(cr, query, *args, **kwargs)

        with patch.object(cr_class, "execute", started_since):
            self.confirm_orders(1)
        jobs = self.env["queue.job"].search(
            [("method_name", "=", "_dispatch"), ("state", "=", "pending")]
        )
        self.assertEqual(len(jobs), 2)
        self.assertIn(waiting, jobs)
        self.assertFalse((jobs - waiting).identity_key)
        self.confirm_orders(1)
        self.assertEqual(len(self.waiting_jobs()), 1, "the waiting one stands")

    def test_a_run_with_nothing_to_send_waits_for_captures_still_writing(self):
        """A capture whose snapshot saw the dispatch job waiting queued none:
        a run that finds nothing to send looks again a second later while a
        transaction still writes deliveries of its subscription, and
        leaves no run once none does."""
        self.only("order.confirmed")
        self.confirm_orders(1)
        self.waiting_jobs().button_done()
        self.assertEqual(self.dispatch(), "1 sent, state healthy")
        self.waiting_jobs().button_done()  # the look a second after a send
        Subscription = type(self.subscription)
        with patch.object(Subscription, "_captures_done", return_value=False):
            self.assertEqual(self.dispatch(), "0 sent, state healthy")
        later = self.waiting_jobs()
        self.assertEqual(len(later), 1)
        self.assertTrue(later.identity_key.endswith(":soon"))
        self.assertSoon(later.eta, 1, slack=2)
        later.button_done()
        self.assertTrue(self.subscription._captures_done(), "none here")
        self.assertEqual(self.dispatch(), "0 sent, state healthy")
        self.assertFalse(self.waiting_jobs())
