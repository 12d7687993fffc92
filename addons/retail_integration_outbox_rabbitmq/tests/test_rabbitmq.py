"""The RabbitMQ delivery mode against the broker of the machine."""

import asyncio
import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from unittest.mock import patch

import pika
from standardwebhooks.webhooks import Webhook

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import config

from odoo.addons.retail_integration_outbox.models import (
    retail_event_subscription_dispatch as dispatcher,
)
from odoo.addons.retail_integration_outbox.tests.common import SECRET, OutboxCase

from ..lib import broker
from .common import (
    STREAM_PORT,
    URL,
    delete_stream,
    ensure_stream_protocol,
    port_open,
    rabbitmqctl,
    read_stream,
    settings,
    wait_for_port,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "rabbitmq_consumer.py"


def configured(url=URL, port=STREAM_PORT, batch=200):
    return patch.dict(
        config.options,
        {
            "retail_outbox_rabbitmq_url": url,
            "retail_outbox_rabbitmq_stream_port": port,
            "retail_outbox_batch_size": batch,
        },
    )


def confirms_lost():
    """The stream stores what is published, but its confirms never come."""
    real = broker.StreamLink._publish

    async def publish(link, messages, ids, timeout):
        await real(link, messages, ids, timeout)
        return [(broker.UNKNOWN, "connection lost before the confirm")] * len(ids)

    return patch.object(broker.StreamLink, "_publish", publish)


def time_is_up():
    """A dispatch run whose time is up once it has recorded one delivery."""
    return patch.object(dispatcher, "DISPATCH_SECONDS", -1)


@tagged("retail", "post_install", "-at_install")
class TestRabbitMQ(OutboxCase):
    @classmethod
    def setUpClass(cls):
        ensure_stream_protocol()
        super().setUpClass()
        cls.startClassPatcher(configured())

    def setUp(self):
        super().setUp()
        self.stream = f"retail-test-{uuid.uuid4().hex[:12]}"
        self.addCleanup(delete_stream, self.stream)
        self.only("order.confirmed", "order.cancelled")
        self.subscription.write(
            {
                "delivery_mode": "rabbitmq",
                "url": False,
                "rabbitmq_target": broker.STREAM,
                "rabbitmq_name": self.stream,
                "circuit_threshold": 0,
                # Enough attempts for a broker that takes a while to come back.
                "retry_schedule": ", ".join(["0"] + ["1"] * 60),
            }
        )

    def confirmed_orders(self, count):
        orders = self.env["sale.order"]
        for _i in range(count):
            orders |= self.make_order()
        orders.action_confirm()
        self.commit_hooks()
        return orders

    def drain(self, seconds=30):
        """Dispatch until nothing waits (retries made due at once, the
        links' back-off let run)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.make_due()
            if not self.deliveries().filtered(
                lambda d: d.state in ("pending", "failed")
            ):
                return
            self.dispatch()
            time.sleep(0.2)
        self.fail(f"deliveries still waiting after {seconds} s")

    def assertExactlyOnceInOrder(self, messages):
        """Each delivery's event once in the stream, in sequence per aggregate."""
        ids = [m["message_id"] for _o, m in messages]
        events = self.deliveries().event_id
        self.assertEqual(sorted(ids), sorted(events.mapped("uuid")), "each event once")
        position = {uid: i for i, uid in enumerate(ids)}
        for aggregate in set(events.mapped("aggregate_id")):
            mine = events.filtered(lambda e, a=aggregate: e.aggregate_id == a)
            self.assertEqual(
                [position[e.uuid] for e in mine.sorted("id")],
                sorted(position[e.uuid] for e in mine),
                "per-aggregate order",
            )

    def test_published_signed_and_confirmed_in_the_stream(self):
        orders = self.confirmed_orders(3)
        self.assertEqual(self.dispatch(), "3 sent, state healthy")
        self.assertEqual(set(self.deliveries().mapped("state")), {"delivered"})
        messages = read_stream(self.stream)
        self.assertEqual([o for o, _m in messages], [0, 1, 2])
        verifier = Webhook(SECRET)
        for (_offset, message), delivery in zip(
            messages, self.deliveries(), strict=True
        ):
            self.assertEqual(message["body"], delivery._body(), "the webhook's body")
            self.assertEqual(message["message_id"], delivery.event_id.uuid)
            self.assertEqual(message["headers"]["webhook-id"], delivery.event_id.uuid)
            self.assertEqual(message["headers"]["Content-Type"], "application/json")
            payload = verifier.verify(message["body"], message["headers"])
            self.assertEqual(payload["type"], "order.confirmed")
        self.assertEqual(
            [json.loads(m["body"])["data"]["name"] for _o, m in messages],
            orders.mapped("name"),
        )
        self.assertEqual(self.publications(), {True}, "the broker's answers")
        self.env.cr.postcommit.run()  # the dispatch job commits
        self.assertEqual(self.publications(), set(), "settled once confirmed")

    def publications(self):
        """The ``stored`` values of the test's deliveries' publication rows,
        as committed: the dispatcher numbers and settles in transactions of
        its own, which the test's transaction, like a dispatch's, does not
        see (and does not roll back)."""
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT stored FROM retail_outbox_rabbitmq_publication "
                "WHERE delivery_id = ANY(%s)",
                [self.deliveries().ids],
            )
            return {row[0] for row in cr.fetchall()}

    def test_a_replay_is_published_again(self):
        """A delivered delivery replayed is a new message, even if its number
        was left behind (a crash between the commit and the clean-up)."""
        self.confirmed_orders(1)
        self.assertEqual(self.dispatch(), "1 sent, state healthy")
        self.assertEqual(self.publications(), {True}, "left behind")
        self.addCleanup(self.env.cr.postcommit.run)
        self.deliveries().action_replay()
        self.assertEqual(self.dispatch(), "1 sent, state healthy")
        messages = read_stream(self.stream)
        self.assertEqual(len(messages), 2, "published again")
        self.assertEqual(
            messages[0][1]["message_id"], messages[1][1]["message_id"], "same event"
        )

    def test_a_lost_confirm_does_not_publish_twice(self):
        self.confirmed_orders(4)
        with confirms_lost():
            self.dispatch()
        self.assertEqual(set(self.deliveries().mapped("state")), {"failed"})
        self.assertEqual(len(read_stream(self.stream)), 4)
        # Sent, not stored: the broker never got them (a crash before the send).
        self.make_order().action_confirm()
        self.commit_hooks()

        async def never_sent(link, messages, ids, timeout):
            raise ConnectionError("refused")

        self.make_due()
        with patch.object(broker.StreamLink, "_publish", never_sent):
            link = broker.link(
                settings(),
                broker.STREAM,
                self.stream,
                self.subscription._rabbitmq_reference(),
            )
            link.backoff.succeeded()
            self.dispatch()
        link.backoff.succeeded()
        self.drain()
        self.assertEqual(set(self.deliveries().mapped("state")), {"delivered"})
        self.assertIn(
            "Stored by an earlier attempt", self.deliveries().mapped("response_excerpt")
        )
        self.assertExactlyOnceInOrder(read_stream(self.stream))

    def test_a_run_stopped_early_does_not_publish_twice(self):
        """A run that stops after recording one delivery puts the rest of
        the batch, stored and confirmed, back in the queue: they keep their
        publication rows, and the next run settles them without publishing
        them again."""
        self.addCleanup(self.env.cr.postcommit.run)
        self.confirmed_orders(3)
        with time_is_up():
            self.assertEqual(self.dispatch(), "1 sent, state healthy")
        self.env.cr.postcommit.run()  # the dispatch job commits
        self.assertEqual(
            self.deliveries().mapped("state"), ["delivered", "pending", "pending"]
        )
        self.assertEqual(len(read_stream(self.stream)), 3)
        self.assertEqual(self.publications(), {True}, "the released ones kept")
        self.drain()
        self.assertEqual(
            self.deliveries()[1:].mapped("response_excerpt"),
            ["Stored by an earlier attempt"] * 2,
        )
        self.assertExactlyOnceInOrder(read_stream(self.stream))

    def test_a_value_coalesced_after_a_lost_confirm_is_published(self):
        """A delivery whose send got no confirm, then pointed at a newer
        event by coalescing, publishes that event: the older one the stream
        stored does not stand for it."""
        self.addCleanup(self.env.cr.postcommit.run)
        self.only("stock.level_changed")
        product = self.env["product.product"].create(
            {"name": "Streamed", "default_code": "ST-1", "is_storable": True}
        )
        self.add_stock(10, product)
        self.commit_hooks()
        with confirms_lost():
            self.dispatch()
        delivery = self.deliveries()
        self.assertEqual(delivery.state, "failed")
        self.add_stock(-3, product)
        self.commit_hooks()
        self.assertEqual(self.deliveries(), delivery, "coalesced")
        self.assertEqual(delivery.coalesced_count, 1)
        for link in broker._LINKS.values():
            link.backoff.succeeded()
        self.drain()
        self.assertEqual(delivery.state, "delivered")
        self.assertEqual(
            [
                json.loads(m["body"])["data"]["free_qty"]
                for _o, m in read_stream(self.stream)
            ],
            [10.0, 7.0],
            "the older value, then the newer one",
        )

    def test_broker_restarted_mid_batch_every_event_once_in_order(self):
        orders = self.confirmed_orders(40)
        orders[::2]._action_cancel()
        self.commit_hooks()
        self.assertEqual(len(self.deliveries()), 60)
        real = broker.StreamLink._publish
        batches = []
        stop = threading.Thread(target=rabbitmqctl, args=("stop_app",))

        async def publish(link, messages, ids, timeout):
            batches.append(len(ids))
            if len(batches) == 2:
                # The broker stops while this batch is on its way.
                stop.start()
                while port_open(STREAM_PORT):
                    await asyncio.sleep(0.05)
            return await real(link, messages, ids, timeout)

        stopped = False
        try:
            with (
                configured(batch=10),
                patch.object(broker.StreamLink, "_publish", publish),
            ):
                self.dispatch()
                time.sleep(0.5)
                self.make_due()
                self.dispatch()  # down: nothing lost, all waiting
                stop.join()
            stopped = True
        finally:
            rabbitmqctl("start_app")
            wait_for_port(STREAM_PORT)
        self.assertTrue(stopped)
        waiting = self.deliveries().filtered(lambda d: d.state == "failed")
        self.assertTrue(waiting, "the restart left deliveries to retry")
        for link in broker._LINKS.values():
            link.backoff.succeeded()
        self.drain()
        self.assertEqual(set(self.deliveries().mapped("state")), {"delivered"})
        self.assertExactlyOnceInOrder(read_stream(self.stream))

    def test_replay_from_offset_and_timestamp(self):
        self.confirmed_orders(2)
        self.dispatch()
        time.sleep(1.5)  # a stream's timestamps are per chunk of messages
        middle = time.time() - 0.5
        later = self.confirmed_orders(3)
        self.dispatch()
        everything = read_stream(self.stream)
        self.assertEqual([o for o, _m in everything], [0, 1, 2, 3, 4])
        self.assertEqual(read_stream(self.stream, offset=3), everything[3:])
        since = read_stream(self.stream, timestamp=middle)
        self.assertEqual(
            [json.loads(m["body"])["data"]["name"] for _o, m in since],
            later.mapped("name"),
        )

    def test_the_example_consumer_verifies_and_replays(self):
        orders = self.confirmed_orders(3)
        self.dispatch()

        def consume(*args):
            done = subprocess.run(
                [sys.executable, str(EXAMPLE), "--stream", self.stream, "--idle", "0.5",
                 *args],
                capture_output=True, text=True, timeout=60, check=True,
            )  # fmt: skip
            lines = [json.loads(line) for line in done.stdout.splitlines()]
            return [line["data"]["name"] for line in lines], done.stderr

        names, errors = consume("--secret", SECRET)
        self.assertEqual(names, orders.mapped("name"))
        self.assertFalse(errors)
        self.assertEqual(consume("--secret", SECRET, "--offset", "1")[0], names[1:])
        names, errors = consume("--secret", "whsec_" + "A" * 32)
        self.assertEqual(names, [], "a wrong secret verifies nothing")
        self.assertEqual(errors.count("bad signature: skipped"), 3)

    def exchange_queue(self):
        """The subscription publishes to a topic exchange; (channel, queue)
        of a queue bound to its ``order.confirmed`` messages."""
        exchange = self.stream
        self.subscription.rabbitmq_target = broker.EXCHANGE
        connection = pika.BlockingConnection(pika.URLParameters(URL))
        self.addCleanup(connection.close)
        channel = connection.channel()
        channel.exchange_declare(exchange, "topic", durable=True)
        self.addCleanup(channel.exchange_delete, exchange)
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(queue, exchange, "order.confirmed.#")
        return channel, queue

    def test_topic_exchange_routes_by_type_and_aggregate(self):
        channel, queue = self.exchange_queue()
        exchange = self.stream
        orders = self.confirmed_orders(2)
        self.assertEqual(self.dispatch(), "2 sent, state healthy")
        got = []
        for _i in range(2):
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            got.append((method.routing_key, properties, body))
        self.assertEqual(
            [key for key, _p, _b in got],
            [f"order.confirmed.sale_order.{o.id}" for o in orders],
        )
        for (_key, properties, body), delivery in zip(
            got, self.deliveries(), strict=True
        ):
            self.assertEqual(properties.message_id, delivery.event_id.uuid)
            self.assertEqual(properties.delivery_mode, 2, "persistent")
            Webhook(SECRET).verify(body, properties.headers)
        # No queue takes a cancellation: returned by the broker, kept here.
        orders[0]._action_cancel()
        self.commit_hooks()
        self.dispatch()
        cancelled = self.deliveries(event_type="order.cancelled")
        self.assertEqual(cancelled.state, "failed")
        self.assertIn("no queue is bound", cancelled.last_error)
        channel.queue_bind(queue, exchange, "order.cancelled.#")
        self.drain()
        self.assertEqual(cancelled.state, "delivered")

    def test_an_exchange_run_stopped_early_publishes_what_it_recorded(self):
        """An exchange does not de-duplicate: a run publishes a message only
        when it is ready to record it, so one that stops early has
        published no delivery it puts back in the queue."""
        channel, queue = self.exchange_queue()
        self.confirmed_orders(3)
        with time_is_up():
            self.assertEqual(self.dispatch(), "1 sent, state healthy")
        self.assertEqual(
            channel.queue_declare(queue, passive=True).method.message_count, 1
        )
        self.drain()
        ids = []
        while True:
            method, properties, _body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                break
            ids.append(properties.message_id)
        self.assertEqual(ids, self.deliveries().event_id.mapped("uuid"), "each once")

    def test_broker_down_opens_the_circuit_and_loses_nothing(self):
        self.subscription.circuit_threshold = 3
        self.confirmed_orders(5)
        closed_port = 8459  # of this suite's range: nothing listens there
        with configured(port=closed_port):
            self.dispatch()
        self.assertEqual(self.subscription.state, "paused")
        exception = self.env["retail.sync.exception"].search(
            [
                ("source_model", "=", self.subscription._name),
                ("source_id", "=", self.subscription.id),
            ]
        )
        self.assertIn(f"rabbitmq-stream://127.0.0.1:{closed_port}/", exception.cause)
        self.assertFalse(self.deliveries().filtered(lambda d: d.state == "delivered"))
        self.subscription.action_resume()
        self.drain()
        self.assertEqual(len(read_stream(self.stream)), 5)

    def test_settings_that_cannot_work(self):
        with self.assertRaises(ValidationError):
            self.subscription.rabbitmq_name = "amq.topic"
        with self.assertRaises(ValidationError):
            self.subscription.rabbitmq_name = "two words"
        self.confirmed_orders(1)
        with configured(url=""):
            self.assertEqual(self.dispatch(), "refused: no broker")
        self.assertEqual(self.subscription.state, "stopped")
        self.assertIn("retail_outbox_rabbitmq_url", self.subscription.state_reason)
        self.assertEqual(self.deliveries().state, "pending", "kept")
        fresh = self.env["retail.event.subscription"].create(
            {
                "name": "Stream feed",
                "backend_id": self.backend.id,
                "delivery_mode": "rabbitmq",
                "rabbitmq_name": "retail.events",
                "event_type_ids": [(6, 0, self.subscription.event_type_ids.ids)],
            }
        )
        self.assertTrue(fresh.signing_secret_is_set, "signed: a secret is generated")
