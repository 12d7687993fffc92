import json

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.retail_integration_outbox.tests.common import allow_private_urls
from odoo.addons.retail_integration_webhook.tests.common import sign

from ..lib.square_scheme import signature
from .common import PosMixin, ticket
from .square_server import TOKEN, SquareServer, square_order

SQUARE_KEY = "sq0wss-signature-key-test"


@tagged("retail", "-at_install", "post_install")
class TestPosHttp(PosMixin, HttpCase):
    """Uploads through Odoo's real HTTP server; Square through a stand-in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_pos()
        env = cls.env
        cls.square = env["retail.backend"].create(
            {
                "name": "Square Stores",
                "code": "test_square",
                "channel_type": "pos",
                "provider": "square",
                "state": "active",
                "api_secret": TOKEN,
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
                            "tz": "Europe/Paris",
                            "warehouse_id": cls.warehouse.id,
                            "register_ids": [(0, 0, {"code": "R1"})],
                        },
                    )
                ],
            }
        )
        cls.square.action_pos_create_configs()
        cls.square_endpoint = env["retail.webhook.endpoint"].create(
            {
                "name": "Square",
                "backend_id": cls.square.id,
                "scheme": "square",
                "secret": SQUARE_KEY,
            }
        )

    def url(self, endpoint):
        return f"{self.base_url()}/retail/webhook/{endpoint.sudo().token}"

    def post(self, endpoint, body, headers):
        return self.opener.post(
            self.url(endpoint), data=body, headers=headers, timeout=30
        )

    def messages(self, endpoint):
        return self.env["retail.inbound.message"].search(
            [("endpoint_id", "=", endpoint.id)]
        )

    def test_a_batch_of_500_tickets_in_one_request(self):
        tickets = [
            ticket(
                10000 + n,
                lines=[{"sku": "POS-1", "quantity": 1, "unit_price": "10.00"}],
                payments=[{"method": "card", "amount": "10.00"}],
            )
            for n in range(500)
        ]
        body = json.dumps(
            {"type": "pos.tickets", "timestamp": 0, "data": {"tickets": tickets}}
        ).encode()
        response = self.post(
            self.endpoint, body, sign("standard", body, delivery_id="b1")
        )
        self.assertEqual(response.status_code, 202, response.text)
        message = self.messages(self.endpoint)
        self.assertEqual(message.state, "queued", "processed in the background")
        message.with_context(queue_job__no_delay=True)._process()
        self.assertEqual(message.state, "done", message.error)
        orders = self.env["pos.order"].search(
            [("retail_backend_id", "=", self.backend.id)]
        )
        self.assertEqual(len(orders), 500)
        self.assertEqual(len(orders.session_id), 1)
        # The same upload again: a duplicate (same id), then under a new id
        # (a store resending it): no ticket twice.
        again = self.post(self.endpoint, body, sign("standard", body, delivery_id="b1"))
        self.assertEqual(again.json()["status"], "duplicate")
        resent = self.post(
            self.endpoint, body, sign("standard", body, delivery_id="b2")
        )
        self.assertEqual(resent.status_code, 202)
        message = self.messages(self.endpoint).filtered(lambda m: m.delivery_id == "b2")
        message.with_context(queue_job__no_delay=True)._process()
        self.assertIn("0 new, 500 already received", message.result)
        self.assertEqual(
            self.env["pos.order"].search_count(
                [("retail_backend_id", "=", self.backend.id)]
            ),
            500,
        )

    @mute_logger(
        "odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint"
    )
    def test_unsigned_oversized_malformed_and_hostile_uploads(self):
        body = json.dumps(
            {"type": "pos.tickets", "data": {"tickets": [ticket(1)]}}
        ).encode()
        unsigned = self.post(self.endpoint, body, {"Content-Type": "application/json"})
        self.assertEqual(unsigned.status_code, 401)
        forged = sign("standard", body, secret="whsec_" + "A" * 32)
        self.assertEqual(self.post(self.endpoint, body, forged).status_code, 401)
        huge = json.dumps(
            {
                "type": "pos.tickets",
                "data": {"tickets": [ticket(n) for n in range(9000)]},
            }
        ).encode()
        self.assertEqual(
            self.post(self.endpoint, huge, sign("standard", huge)).status_code, 413
        )
        broken = b'{"type": "pos.tickets", "data": {"tickets": [{"store": '
        self.assertEqual(
            self.post(self.endpoint, broken, sign("standard", broken)).status_code, 400
        )
        self.assertFalse(self.messages(self.endpoint), "nothing stored")
        hostile = json.dumps(
            {
                "type": "pos.tickets",
                "data": {
                    "tickets": [
                        ticket("\u0000" + "9" * 65),
                        ticket(
                            2,
                            lines=[
                                {"sku": "POS-1", "quantity": 1e308, "unit_price": "1"}
                            ],
                        ),
                        ticket(
                            3,
                            lines=[
                                {"sku": ["POS-1"], "quantity": 1, "unit_price": "1"}
                            ],
                        ),
                        ticket(4, business_date="2026-02-30"),
                        ticket(5, payments=[{"method": "card", "amount": "NaN"}]),
                        "not a ticket",
                    ]
                },
            }
        ).encode()
        response = self.post(self.endpoint, hostile, sign("standard", hostile))
        self.assertEqual(response.status_code, 202)
        message = self.messages(self.endpoint)
        message.with_context(queue_job__no_delay=True)._process()
        self.assertEqual(message.state, "done", message.error)
        self.assertFalse(
            self.env["pos.order"].search([("retail_backend_id", "=", self.backend.id)])
        )
        failed = self.env["retail.pos.ticket"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertEqual(set(failed.mapped("state")), {"failed"})
        self.assertIn("without a key", message.result)

    def square_post(self, event, url=None):
        body = json.dumps(event).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Square-HmacSha256-Signature": signature(
                SQUARE_KEY, url or self.url(self.square_endpoint), body
            ),
        }
        return self.post(self.square_endpoint, body, headers)

    def square_event(self, order_id, event_id, state="COMPLETED"):
        return {
            "merchant_id": "ML1",
            "type": "order.updated",
            "event_id": event_id,
            "created_at": "2026-12-03T10:00:01Z",
            "data": {
                "type": "order_updated",
                "id": order_id,
                "object": {
                    "order_updated": {
                        "order_id": order_id,
                        "location_id": "LSQPARIS",
                        "state": state,
                        "version": 4,
                    }
                },
            },
        }

    def square_stock_out(self, server):
        stock = self.env["retail.outbox.event.type"].search(
            [("code", "=", "stock.level_changed")]
        )
        with allow_private_urls():
            subscription = self.env["retail.event.subscription"].create(
                {
                    "name": "Square stock",
                    "backend_id": self.square.id,
                    "delivery_mode": "square_inventory",
                    "event_type_ids": [(6, 0, stock.ids)],
                }
            )
            self.env["stock.quant"]._update_available_quantity(
                self.product_1, self.warehouse.lot_stock_id, 7
            )
            self.env.cr.flush()  # the events are written as the transaction commits
            subscription._dispatch()
        [change] = [
            c["physical_count"]
            for c in server.inventory_changes
            if c["physical_count"]["catalog_object_id"] == "VAR-1"
        ]
        self.assertEqual(change["location_id"], "LSQPARIS")
        free = self.product_1.with_context(warehouse_id=self.warehouse.id).free_qty
        self.assertEqual(float(change["quantity"]), free)
        delivery = self.env["retail.outbox.delivery"].search(
            [("subscription_id", "=", subscription.id)]
        )
        self.assertEqual(delivery.state, "delivered")

    def test_square_orders_and_returns(self):
        with SquareServer() as server:
            self.square.pos_api_url = server.url
            server.variations = {"VAR-1": "POS-1", "VAR-2": "POS-2"}
            server.orders["ORD-1"] = square_order(
                "ORD-1",
                "LSQPARIS",
                [("VAR-1", 2, 1000), ("VAR-2", 1, 500)],
                [("CARD", 2550)],
                number="0001",
                closed_at="2026-12-03T23:30:00Z",
            )
            response = self.square_post(self.square_event("ORD-1", "evt-1"))
            self.assertEqual(response.status_code, 202, response.text)
            message = self.messages(self.square_endpoint)
            self.assertEqual(
                (message.topic, message.delivery_id), ("order.updated", "evt-1")
            )
            message.with_context(queue_job__no_delay=True)._process()
            self.assertEqual(message.state, "done", message.error_detail)
            staged = self.env["retail.pos.ticket"].search(
                [("backend_id", "=", self.square.id)]
            )
            self.assertEqual(staged.state, "done", staged.error)
            self.assertEqual(str(staged.business_date), "2026-12-04", "Paris time")
            order = staged.pos_order_id
            self.assertEqual(order.amount_total, 25.5)
            self.assertEqual(order.payment_ids.payment_method_id, self.card)
            self.assertEqual(server.requests[0][2]["Authorization"], f"Bearer {TOKEN}")
            # A replay of the same event is a duplicate; a forged URL is refused.
            replay = self.square_post(self.square_event("ORD-1", "evt-1"))
            self.assertEqual(replay.json()["status"], "duplicate")
            forged = self.square_post(
                self.square_event("ORD-1", "evt-9"),
                url="https://elsewhere.example/hook",
            )
            self.assertEqual(forged.status_code, 401)
            # Events of another shape are refused in plain words, not imported.
            for n, data in enumerate(
                (
                    {"object": "x"},
                    {
                        "object": {
                            "order_updated": {
                                "order_id": ["ORD-1"],
                                "location_id": "LSQPARIS",
                                "state": "COMPLETED",
                            }
                        }
                    },
                )
            ):
                event = {**self.square_event("ORD-1", f"evt-h{n}"), "data": data}
                self.assertEqual(self.square_post(event).status_code, 202)
                hostile = self.messages(self.square_endpoint).filtered(
                    lambda m, n=n: m.delivery_id == f"evt-h{n}"
                )
                hostile.with_context(queue_job__no_delay=True)._process()
                self.assertEqual(hostile.state, "failed")
                self.assertIn("Square event", hostile.error)
            # A return naming the original order, in Square's shape.
            server.orders["ORD-2"] = square_order(
                "ORD-2",
                "LSQPARIS",
                [],
                [("CARD", -1000)],
                number="0002",
                closed_at="2026-12-04T09:00:00Z",
                returns=[
                    {
                        "source_order_id": "0001",
                        "return_line_items": [
                            {
                                "uid": "r1",
                                "catalog_object_id": "VAR-1",
                                "quantity": "1",
                                "source_line_item_uid": "li-0",
                                "base_price_money": {"amount": 1000, "currency": "USD"},
                            }
                        ],
                    }
                ],
            )
            self.square_post(self.square_event("ORD-2", "evt-2"))
            message = self.messages(self.square_endpoint).filtered(
                lambda m: m.delivery_id == "evt-2"
            )
            message.with_context(queue_job__no_delay=True)._process()
            refund = self.env["retail.pos.ticket"].search(
                [("backend_id", "=", self.square.id), ("number", "=", "0002")]
            )
            self.assertEqual(refund.state, "done", refund.error or message.error_detail)
            self.assertEqual(refund.pos_order_id.refunded_order_id, order)
            # The store's stock goes back to Square's Inventory API, for the
            # variation Square named, at the store's location.
            self.square_stock_out(server)
            # Square down: the message is retried later, nothing is lost.
            server.orders["ORD-3"] = square_order(
                "ORD-3",
                "LSQPARIS",
                [("VAR-1", 1, 1000)],
                [("CASH", 1000)],
                number="0003",
            )
            server.script = [503]
            self.square_post(self.square_event("ORD-3", "evt-3"))
            message = self.messages(self.square_endpoint).filtered(
                lambda m: m.delivery_id == "evt-3"
            )
            with self.assertRaises(RetryableJobError):
                message.with_context(queue_job__no_delay=True)._process()
