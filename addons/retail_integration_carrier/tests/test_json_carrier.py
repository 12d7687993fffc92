import base64

from odoo.tests import tagged

from odoo.addons.retail_integration_webhook.tests.common import sign

from .common import CarrierCase
from .json_carrier_server import LABEL, TOKEN, JsonCarrierServer


@tagged("retail", "-at_install", "post_install")
class TestJsonCarrier(CarrierCase):
    """The generic JSON carrier's contract, against a 3PL stand-in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.regio = JsonCarrierServer().start()
        cls.addClassCleanup(cls.regio.stop)
        cls.json_backend = cls.env["retail.backend"].create(
            {
                "name": "RegioPost",
                "code": "test_regiopost",
                "channel_type": "carrier",
                "provider": "carrier_json",
                "carrier_api_url": cls.regio.url,
                "api_key": TOKEN,
                "state": "active",
            }
        )
        cls.json_carrier = cls.env["delivery.carrier"].create(
            {
                "name": "RegioPost Standard",
                "delivery_type": "retail_json",
                "product_id": cls.carrier.product_id.id,
                "retail_backend_id": cls.json_backend.id,
                "retail_provider_carrier": "RegioPost",
                "retail_service": "Standard",
                "retail_tracking_url": "https://regiopost.example/track/{number}",
            }
        )

    def setUp(self):
        super().setUp()
        self.regio.script = []
        self.regio.requests = []
        self.regio.created = 0

    def test_rate_label_tracking_link_and_cancel(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    (0, 0, {"product_id": self.product.id, "product_uom_qty": 1})
                ],
            }
        )
        result = self.json_carrier.rate_shipment(order)
        self.assertTrue(result["success"], result)
        eur = self.env.ref("base.EUR")
        expected = eur._convert(
            5.90, order.company_id.currency_id, order.company_id, order.date_order
        )
        self.assertAlmostEqual(result["price"], expected, places=2)

        self.json_carrier.shipping_insurance = 50
        picking = self.validate(self.make_picking(carrier=self.json_carrier))
        [shipment] = picking.retail_shipment_ids
        self.assertEqual(shipment.state, "bought")
        self.assertEqual(base64.b64decode(shipment.label_ids.datas), LABEL)
        self.assertEqual(
            picking.carrier_tracking_url,
            f"https://regiopost.example/track/{shipment.tracking_number}",
        )
        [(_m, _p, body, headers)] = [
            r for r in self.regio.requests if r[1] == "/api/shipments"
        ]
        self.assertEqual(headers["Idempotency-Key"], shipment.idempotency_key)
        self.assertEqual(body["shipment"]["parcel"]["weight_kg"], 1.0)
        insurance = body["shipment"]["insurance"]
        self.assertEqual(insurance["currency"], picking.company_id.currency_id.name)
        self.assertGreater(float(insurance["amount"]), 0)
        self.assertIsNone(body["shipment"]["customs"])  # domestic
        picking.cancel_shipment()
        self.assertEqual(shipment.state, "voided")
        self.assertEqual(shipment.refund_status, "cancelled")

    def test_a_lost_answer_is_retried_with_the_same_key_and_buys_once(self):
        self.regio.script = [("POST", r"/api/shipments$", "lost")]
        picking = self.validate(self.make_picking(carrier=self.json_carrier))
        [shipment] = picking.retail_shipment_ids
        self.assertEqual(shipment.state, "pending")
        self.assertEqual(self.regio.created, 1)
        shipment._job_purchase()
        self.assertEqual(shipment.state, "bought")
        self.assertEqual(self.regio.created, 1)
        self.assertEqual(picking.carrier_tracking_ref, shipment.tracking_number)

    def test_the_calls_carry_the_orders_correlation_id(self):
        picking = self.make_picking(carrier=self.json_carrier)
        picking.retail_correlation_id = "corr-web-order-1001"  # as a webhook's import
        self.validate(picking)
        calls = [r for r in self.regio.requests if r[1].startswith("/api/shipments")]
        self.assertTrue(calls)
        for _method, path, _body, headers in calls:
            self.assertEqual(
                headers.get("X-Correlation-Id"), "corr-web-order-1001", path
            )

    def test_throttled_waits_for_retry_after(self):
        self.regio.script = [("POST", r"/api/shipments$", 429)]
        picking = self.validate(self.make_picking(carrier=self.json_carrier))
        shipment = picking.retail_shipment_ids
        self.assertEqual(shipment.state, "pending")
        wait = (shipment.next_attempt - shipment.write_date).total_seconds()
        self.assertGreaterEqual(wait, 119)

    def test_an_address_without_postal_code_is_refused_before_validation(self):
        partner = self.customer.copy({"zip": False})
        picking = self.make_picking(partner=partner, carrier=self.json_carrier)
        result = picking.button_validate()
        self.assertIn("The postal code is missing", result["params"]["message"])
        self.assertEqual(picking.state, "assigned")

    def test_tracking_webhook_in_standard_webhooks(self):
        picking = self.validate(self.make_picking(carrier=self.json_carrier))
        shipment = picking.retail_shipment_ids
        endpoint = self.env["retail.webhook.endpoint"].create(
            {
                "name": "RegioPost tracking",
                "backend_id": self.json_backend.id,
                "scheme": "standard",
                "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            }
        )
        update = {
            "type": "shipment.tracking",
            "id": "evt-1",
            "data": {
                "id": shipment.provider_ref,
                "tracking_number": shipment.tracking_number,
                "status": "delivered",
                "events": [
                    {
                        "status": "delivered",
                        "occurred_at": "2025-03-02T10:00:00+01:00",
                        "location": "Lyon",
                        "message": "Delivered",
                    }
                ],
            },
        }  # fmt: skip
        self.assertTrue(sign("standard", b"{}"))  # the suite's signer works here
        message = self.env["retail.inbound.message"]._insert_once(
            endpoint,
            topic="shipment.tracking",
            delivery_id="evt-1",
            body=__import__("json").dumps(update),
            body_hash="x",
            headers={},
            state="queued",
            correlation_id="c0rrelation-1",
        )
        message._process()
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(picking.retail_tracking_status, "delivered")
        self.assertEqual(str(shipment.status_at), "2025-03-02 09:00:00")
        # The polling fallback asks the carrier's tracking resource.
        update = shipment.backend_id._carrier_adapter().track(shipment.provider_ref)
        self.assertEqual(update.events[0].location, "Lyon")

    def test_malformed_purchase_answers_fail_the_label_into_the_inbox(self):
        """Labels that are not a list, a redirect: the shipment fails with the
        cause in plain words, nothing is raised at the user."""
        cases = {
            "labels": ({"labels": 5}, "labels is not a list"),
            "redirect": ("redirect", "redirected the request (302)"),
        }
        for label, (action, cause) in cases.items():
            with self.subTest(case=label):
                self.regio.script = [("POST", r"/api/shipments$", action)]
                picking = self.validate(self.make_picking(carrier=self.json_carrier))
                shipment = picking.retail_shipment_ids
                self.assertEqual(shipment.state, "failed")
                self.assertIn(cause, shipment.last_error)
                self.assertFalse(shipment.label_ids)
        self.assertFalse(
            [r for r in self.regio.requests if r[1] == "/internal"],
            "the redirect is not followed",
        )

    def test_an_amount_that_is_not_one(self):
        """A NaN, infinite or negative rate is an unreadable answer; a bought
        label's amount that is not one is left unknown, the label kept."""
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    (0, 0, {"product_id": self.product.id, "product_uom_qty": 1})
                ],
            }
        )
        for amount in ("NaN", "1e400", "-50", True):
            with self.subTest(amount=amount):
                self.regio.script = [("POST", r"/api/rates$", [{"amount": amount}])]
                result = self.json_carrier.rate_shipment(order)
                self.assertFalse(result["success"], result)
                self.assertIn("unreadable rate", result["error_message"])
        self.regio.script = [("POST", r"/api/shipments$", {"amount": "NaN"})]
        picking = self.validate(self.make_picking(carrier=self.json_carrier))
        shipment = picking.retail_shipment_ids
        self.assertEqual(shipment.state, "bought", shipment.last_error)
        self.assertTrue(shipment.label_ids)

    def test_tracking_events_that_are_not_a_list_are_left_out(self):
        adapter = self.json_backend._carrier_adapter()
        update = adapter.tracking_update(
            {"data": {"tracking_number": "RP1", "status": "in_transit", "events": 5}}
        )
        self.assertEqual((update.status, update.events), ("in_transit", []))

    def test_a_hostile_answer_fails_the_label_into_the_inbox(self):
        self.regio.script = [("POST", r"/api/shipments$", "hostile")]
        picking = self.validate(self.make_picking(carrier=self.json_carrier))
        shipment = picking.retail_shipment_ids
        self.assertEqual(shipment.state, "failed")
        self.assertIn("unreadable label", shipment.last_error)
        self.assertFalse(shipment.label_ids)
        exception = self.env["retail.sync.exception"].search(
            [("source_model", "=", shipment._name), ("source_id", "=", shipment.id)]
        )
        self.assertEqual(exception.state, "new")
