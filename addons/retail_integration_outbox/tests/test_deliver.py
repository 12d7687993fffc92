"""The ``_deliver`` extension point, driven by a fake connector: a test-only
delivery mode whose "API" takes a whole batch in one call."""

from contextlib import ExitStack
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..lib import retry
from .common import OutboxCase

MODE = ("test_api", "Test API")


class FakeConnector:
    """Records each batch it is called with; ``answer(envelope)`` gives the
    (status, Outcome) of each delivery (delivered by default), or
    (status, Outcome, attempt values that replace the usual ones)."""

    def __init__(self):
        self.batches = []
        self.answer = None

    def call(self, deliveries):
        """One API call for the batch, then the result of each delivery."""
        envelopes = [d.event_id._envelope() for d in deliveries]
        self.batches.append(envelopes)
        answer = self.answer or (lambda env: (200, retry.classify_response(200)))
        return [answer(env) for env in envelopes]


@tagged("retail", "post_install", "-at_install")
class TestDeliver(OutboxCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connector = FakeConnector()
        Subscription = type(cls.env["retail.event.subscription"])
        field = Subscription._fields["delivery_mode"]
        original = Subscription._deliver
        connector = cls.connector

        def _deliver(self, deliveries, session, secret):
            # What a connector module's override does.
            if self.delivery_mode != MODE[0]:
                yield from original(self, deliveries, session, secret)
                return
            results = connector.call(deliveries)
            for delivery, (status, outcome, *vals) in zip(
                deliveries, results, strict=True
            ):
                yield (
                    delivery,
                    outcome,
                    {
                        "attempts": delivery.attempts + 1,
                        "last_attempt": fields.Datetime.now(),
                        "last_status_code": status,
                        "response_excerpt": f"batch of {len(deliveries)}",
                        "latency_ms": 1,
                        **(vals[0] if vals else {}),
                    },
                )

        stack = ExitStack()
        stack.enter_context(patch.object(field, "selection", [*field.selection, MODE]))
        stack.enter_context(patch.dict(field._selection, [MODE]))
        stack.enter_context(patch.object(Subscription, "_deliver", _deliver))
        cls.addClassCleanup(stack.close)
        cls.subscription.write(
            {
                "delivery_mode": MODE[0],
                "url": False,
                "circuit_threshold": 0,
                "retry_schedule": "0, 5m",
            }
        )

    def setUp(self):
        super().setUp()
        self.connector.batches = []
        self.connector.answer = None

    def sent(self):
        return [
            (env["data"].get("name"), env["type"])
            for batch in self.connector.batches
            for env in batch
        ]

    def test_one_call_per_batch_and_nothing_posted(self):
        self.only("order.confirmed")
        orders = self.env["sale.order"]
        for _i in range(3):
            order = self.make_order()
            order.action_confirm()
            orders |= order
        self.commit_hooks()
        self.assertEqual(self.dispatch(), "3 sent, state healthy")
        self.assertEqual(len(self.connector.batches), 1)
        self.assertEqual(self.sent(), [(o.name, "order.confirmed") for o in orders])
        self.assertEqual(self.receiver.received, [], "no webhook is POSTed")
        self.assertRecordValues(
            self.deliveries(),
            [
                {
                    "state": "delivered",
                    "attempts": 1,
                    "last_status_code": 200,
                    "response_excerpt": "batch of 3",
                }
            ]
            * 3,
        )

    def test_retry_then_dead_recorded_and_order_per_aggregate_kept(self):
        self.only("order.confirmed", "order.cancelled")
        order_a, order_b = self.make_order(), self.make_order()
        order_a.action_confirm()
        self.commit_hooks()
        order_a._action_cancel()
        order_b.action_confirm()
        self.commit_hooks()
        self.connector.answer = lambda env: (
            (500, retry.classify_response(500))
            if env["data"]["name"] == order_a.name
            else (200, retry.classify_response(200))
        )
        self.dispatch()
        self.assertEqual(
            self.sent(),
            [(order_a.name, "order.confirmed"), (order_b.name, "order.confirmed")],
            "A's cancellation waits behind A's failed confirmation; B flows",
        )
        confirmed_a, cancelled_a, confirmed_b = self.deliveries()
        self.assertRecordValues(
            confirmed_a | cancelled_a | confirmed_b,
            [
                {"state": "failed", "attempts": 1, "last_status_code": 500},
                {"state": "pending", "attempts": 0, "last_status_code": 0},
                {"state": "delivered", "attempts": 1, "last_status_code": 200},
            ],
        )
        self.assertEqual(self.subscription.state, "healthy", "B answered after A")
        self.make_due()
        self.connector.batches = []
        self.dispatch()
        self.assertEqual(
            self.sent(),
            [(order_a.name, "order.confirmed"), (order_a.name, "order.cancelled")],
            "a dead delivery waits for a person and holds nothing back",
        )
        self.assertRecordValues(
            confirmed_a | cancelled_a,
            [{"state": "dead", "attempts": 2}, {"state": "failed", "attempts": 1}],
        )
        exception = self.env["retail.sync.exception"].search(
            [
                ("source_model", "=", confirmed_a._name),
                ("source_id", "=", confirmed_a.id),
            ]
        )
        self.assertIn("Test API", exception.cause)
        self.connector.answer = None
        self.connector.batches = []
        exception.action_retry()
        self.make_due()
        self.dispatch()
        self.assertEqual(
            self.sent(),
            [(order_a.name, "order.confirmed"), (order_a.name, "order.cancelled")],
        )
        self.assertEqual(set(self.deliveries().mapped("state")), {"delivered"})
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(self.subscription.state, "healthy")

    def test_coalesced_deliveries_carry_the_latest_value(self):
        self.only("stock.level_changed")
        products = self.env["product.product"].create(
            [
                {"name": f"Conn {i}", "default_code": f"C-{i}", "is_storable": True}
                for i in range(3)
            ]
        )
        for product in products:
            self.add_stock(10, product)
        self.commit_hooks()
        for step in range(30):
            self.add_stock(-1, products[step % 3])
            self.commit_hooks()
        self.assertEqual(len(self.deliveries()), 3)
        self.dispatch()
        self.assertEqual(len(self.connector.batches), 1)
        self.assertEqual(
            sorted(
                (env["data"]["product"]["sku"], env["data"]["free_qty"])
                for env in self.connector.batches[0]
            ),
            [("C-0", 0.0), ("C-1", 0.0), ("C-2", 0.0)],
        )
        self.assertEqual(set(self.deliveries().mapped("state")), {"delivered"})

    def test_gone_stops_and_unhandled_deliveries_are_released(self):
        self.only("order.confirmed")
        for _i in range(3):
            self.make_order().action_confirm()
        self.commit_hooks()
        self.connector.answer = lambda env: (410, retry.classify_response(410))
        self.dispatch()
        self.assertRecordValues(
            self.subscription, [{"active": True, "state": "stopped"}]
        )
        self.assertEqual(
            self.deliveries().mapped("state"), ["failed", "pending", "pending"]
        )

    def test_a_connectors_bad_values_do_not_roll_back_the_batch(self):
        """Text with NUL or a lone surrogate is made safe; a number the
        database refuses costs that delivery its recorded answer, not the
        batch (the job failed and every delivery was sent again)."""
        self.only("order.confirmed")
        for _i in range(4):
            self.make_order().action_confirm()
        self.commit_hooks()
        delivered = retry.classify_response(200)
        answers = iter(
            [
                (200, delivered, {"response_excerpt": "a\x00b\ud800"}),
                (200, delivered, {"latency_ms": 2**40}),
                (500, retry.Outcome(retry.RETRY, "HTTP 500: \x00bad\udfff")),
                (200, delivered),
            ]
        )
        self.connector.answer = lambda env: next(answers)
        with mute_logger(
            "odoo.sql_db",
            "odoo.addons.retail_integration_outbox.models.retail_outbox_delivery",
        ):
            self.assertEqual(self.dispatch(), "4 sent, state healthy")
        self.env.flush_all()
        self.assertEqual(
            [
                (d.state, d.attempts, d.response_excerpt, d.latency_ms, d.last_error)
                for d in self.deliveries()
            ],
            [
                ("delivered", 1, "ab\ufffd", 1, False),
                ("delivered", 1, False, 0, False),
                ("failed", 1, "batch of 4", 1, "HTTP 500: bad\ufffd"),
                ("delivered", 1, "batch of 4", 1, False),
            ],
        )

    def test_url_and_secret_only_for_webhooks(self):
        self.assertFalse(self.subscription.url)
        sub = self.env["retail.event.subscription"].create(
            {
                "name": "Connector",
                "backend_id": self.backend.id,
                "delivery_mode": MODE[0],
                "event_type_ids": self.subscription.event_type_ids.ids,
            }
        )
        self.assertFalse(sub.signing_secret_is_set, "no secret for a connector")
        with self.assertRaises(ValidationError):
            sub.delivery_mode = "webhook"  # a webhook needs a URL
