from datetime import datetime

from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError

from .common import PosCase
from .square_server import TOKEN, SquareServer, square_order


@tagged("retail", "-at_install", "post_install")
class TestSquareCatchUp(PosCase):
    """After a webhook outage, the orders Square has and Odoo does not are
    found with SearchOrders (by location, updated since the watermark) and
    imported through the webhooks' path, each once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.square = env["retail.backend"].create(
            {
                "name": "Square Stores",
                "code": "test_square_pull",
                "channel_type": "pos",
                "provider": "square",
                "state": "active",
                "api_secret": TOKEN,
                "pos_square_catch_up": True,
                "pos_square_pulled_until": "2026-12-03 09:00:00",
                "pos_payment_map_ids": [
                    (0, 0, {"code": "CASH", "is_cash": True}),
                    (0, 0, {"code": "CARD", "payment_method_id": cls.card.id}),
                ],
                "pos_store_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Paris",
                            "code": "LSQPARIS",
                            "warehouse_id": cls.warehouse.id,
                            "register_ids": [(0, 0, {"code": "R1"})],
                        },
                    )
                ],
            }
        )
        cls.square.action_pos_create_configs()
        cls.endpoint = env["retail.webhook.endpoint"].create(
            {
                "name": "Square",
                "backend_id": cls.square.id,
                "scheme": "square",
                "secret": "square-signature-key",
            }
        )

    def setUp(self):
        super().setUp()
        self.server = SquareServer().__enter__()
        self.addCleanup(self.server.__exit__)
        self.square.pos_api_url = self.server.url
        self.server.variations = {"VAR-1": "POS-1"}
        for n, (location, moment) in enumerate(
            [
                ("LSQPARIS", "2026-12-03T08:00:00Z"),  # before the watermark
                ("LSQPARIS", "2026-12-03T10:00:00Z"),
                ("LSQPARIS", "2026-12-03T10:05:00Z"),
                ("LELSEWHERE", "2026-12-03T10:06:00Z"),  # not a store of ours
            ],
            start=1,
        ):
            self.server.orders[f"ORD-{n}"] = square_order(
                f"ORD-{n}",
                location,
                [("VAR-1", 1, 1000)],
                [("CARD", 1000)],
                number=f"000{n}",
                closed_at=moment,
            )

    def catch_up(self):
        return self.square.with_context(queue_job__no_delay=True)._pos_square_catch_up()

    def imported(self):
        return self.env["retail.pos.ticket"].search(
            [("backend_id", "=", self.square.id), ("state", "=", "done")]
        )

    def messages(self):
        return self.env["retail.inbound.message"].search(
            [("endpoint_id", "=", self.endpoint.id), ("topic", "=", "square.catch_up")]
        )

    def test_the_orders_since_the_watermark_are_imported_once(self):
        self.server.search_page = 1  # one order per page: the cursor is followed
        self.catch_up()
        self.assertEqual(sorted(self.imported().mapped("number")), ["0002", "0003"])
        self.assertEqual(len(self.messages()), 2)
        self.assertTrue(all(m.state == "done" for m in self.messages()))
        self.assertEqual(
            self.square.pos_square_pulled_until, datetime(2026, 12, 3, 10, 5)
        )
        [search] = [b for p, b, _h in self.server.requests if p == "/v2/orders/search"][
            :1
        ]
        self.assertEqual(search["location_ids"], ["LSQPARIS"])
        self.assertEqual(
            search["query"]["filter"]["date_time_filter"]["updated_at"]["start_at"],
            "2026-12-03T08:50:00Z",
            "the watermark less the overlap",
        )
        # Again, and a webhook that arrives late for an order already in:
        # nothing twice.
        self.square.pos_square_pulled_until = "2026-12-03 09:00:00"
        self.catch_up()
        self.assertEqual(len(self.messages()), 2, "the same pages: no new message")
        self.assertEqual(len(self.imported()), 2)
        self.assertEqual(
            len(
                self.env["pos.order"].search(
                    [("retail_backend_id", "=", self.square.id)]
                )
            ),
            2,
        )

    def test_429_and_outages_retry_the_job_and_keep_the_watermark(self):
        for status in (429, 503):
            self.server.script = [status]
            with self.assertRaises(RetryableJobError):
                self.catch_up()
            self.assertEqual(
                self.square.pos_square_pulled_until, datetime(2026, 12, 3, 9, 0)
            )
        self.assertFalse(self.messages())

    def test_a_malformed_answer_goes_to_the_inbox(self):
        for answer in (b'{"orders": {"id": "x"}}', b'{"orders": [{"id": 7}]}'):
            self.server.script = [answer]
            self.catch_up()
            self.assertEqual(
                self.square.pos_square_pulled_until, datetime(2026, 12, 3, 9, 0)
            )
        exception = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.square.id), ("state", "=", "new")]
        )
        self.assertEqual(len(exception), 1, "one item per cause")
        self.assertIn("SearchOrders", exception.cause)
        self.assertFalse(self.messages())
        # A catch-up message naming no orders (or too many) is refused.
        message = self.square._pos_square_catch_up_message(
            self.endpoint, "LSQPARIS", []
        )
        message.with_context(queue_job__no_delay=True)._process()
        self.assertNotEqual(message.state, "done")
        self.assertIn("names no orders", message.error)
