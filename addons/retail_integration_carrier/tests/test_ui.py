import json

from odoo.tests import HttpCase, tagged

from ..lib import scheme
from .common import WEBHOOK_SECRET, CarrierCase
from .easypost_server import detail, tracker_event


class CarrierHttpCase(CarrierCase, HttpCase):
    def post(self, body, headers=None, endpoint=None):
        token = (endpoint or self.endpoint).sudo().token
        return self.url_open(
            f"/retail/webhook/{token}",
            data=body,
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    def signed(self, body, secret=WEBHOOK_SECRET):
        return {"X-Hmac-Signature": scheme.signature(secret, body)}

    def last_message(self):
        return self.env["retail.inbound.message"].search(
            [("endpoint_id", "=", self.endpoint.id)], order="id desc", limit=1
        )


@tagged("retail", "-at_install", "post_install")
class TestTrackingWebhookHttp(CarrierHttpCase):
    """The EasyPost endpoint over real HTTP: signed, unsigned, replayed,
    oversized and hostile requests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.picking = cls.make_picking(cls, qty=1)
        cls.picking.button_validate()
        cls.shipment = cls.picking.retail_shipment_ids

    def body(self, event_id="evt_http_1", status="in_transit"):
        tracker = dict(
            self.ep.trackers[self.shipment.tracker_ref],
            status=status,
            tracking_details=[detail(status, "2025-03-01T18:00:00Z")],
        )
        return tracker_event(tracker, event_id)

    def test_signed_accepted_once_then_processed(self):
        body = self.body()
        response = self.post(body, self.signed(body))
        self.assertEqual(response.status_code, 202, response.text)
        message = self.last_message()
        self.assertEqual(
            (message.topic, message.delivery_id), ("tracker.updated", "evt_http_1")
        )
        self.assertEqual(message.state, "queued")
        # EasyPost retries the same event: a duplicate, stored once.
        again = self.post(body, self.signed(body))
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json()["status"], "duplicate")
        # The same event id with another body: refused.
        other = self.body(status="delivered")
        self.assertEqual(self.post(other, self.signed(other)).status_code, 409)
        message.with_user(self.carrier_backend.technical_user_id)._process()
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.picking.retail_tracking_status, "in_transit")

    def test_unsigned_forged_oversized_and_hostile_requests_store_nothing(self):
        body = self.body("evt_http_2")
        before = self.env["retail.inbound.message"].search_count([])
        cases = [
            ("unsigned", body, {}, 401),
            ("other secret", body, self.signed(body, "not-the-secret"), 401),
            (
                "tampered",
                body.replace(b"in_transit", b"delivered"),
                self.signed(body),
                401,
            ),
            ("not JSON", b"{not json", self.signed(b"{not json"), 400),
            ("a JSON list", b"[1]", self.signed(b"[1]"), 400),
        ]
        for label, data, headers, status in cases:
            with self.subTest(label):
                self.assertEqual(self.post(data, headers).status_code, status)
        self.endpoint.max_body_size = 256
        self.assertEqual(self.post(body, self.signed(body)).status_code, 413)
        self.assertEqual(self.env["retail.inbound.message"].search_count([]), before)
        # Nesting the body parser refuses is refused, not crashed on.
        deep = b'{"id": "evt_deep", "result": ' + b"[" * 100000 + b"]" * 100000 + b"}"
        self.endpoint.max_body_size = 1024 * 1024
        self.assertEqual(self.post(deep, self.signed(deep)).status_code, 400)


@tagged("retail", "-at_install", "post_install")
class TestCarrierTour(CarrierHttpCase):
    def test_rate_validate_label_then_delivered(self):
        self.carrier.name = "Tour EasyPost"
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    (0, 0, {"product_id": self.product.id, "product_uom_qty": 1})
                ],
            }
        )
        self.assertEqual(self.env.company.currency_id.name, "USD")
        self.start_tour(
            f"/odoo/action-sale.action_quotations/{order.id}",
            "retail_integration_carrier_tour",
            login="admin",
        )
        picking = order.picking_ids
        self.assertEqual(picking.state, "done")
        shipment = picking.retail_shipment_ids
        self.assertEqual(shipment.state, "bought")
        self.assertEqual(self.ep.buys, 1)
        self.assertEqual(order.order_line.filtered("is_delivery").price_unit, 7.58)

        tracker = dict(
            self.ep.trackers[shipment.tracker_ref],
            status="delivered",
            tracking_details=[
                detail("in_transit", "2025-03-01T18:00:00Z", "Departed"),
                detail(
                    "delivered",
                    "2025-03-02T11:30:00Z",
                    "Delivered, front door",
                    "San Francisco",
                ),
            ],
        )
        body = tracker_event(tracker, "evt_tour")
        response = self.post(body, self.signed(body))
        self.assertEqual(response.status_code, 202, response.text)
        message = self.last_message()
        message.with_user(self.carrier_backend.technical_user_id)._process()
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(picking.retail_tracking_status, "delivered", message.result)
        self.start_tour(
            f"/odoo/action-stock.action_picking_tree_all/{picking.id}",
            "retail_integration_carrier_delivered_tour",
            login="admin",
        )
        self.assertEqual(json.loads(message.body)["id"], "evt_tour")
