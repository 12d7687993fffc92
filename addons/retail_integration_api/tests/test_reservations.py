import json
from datetime import timedelta
from pathlib import Path

import jsonschema

from odoo import fields
from odoo.tests import HttpCase, tagged

from odoo.addons.retail_integration_outbox.tests.common import (
    SECRET,
    allow_private_urls,
)

from .common import ApiMixin

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parent.parent
        / "schemas"
        / "reservation.released.v1.json"
    ).read_text()
)


@tagged("retail", "-at_install", "post_install")
class TestReservations(ApiMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_api()

    def reserve(self, quantity=2, sku="SKU-1", **extra):
        body = {
            "warehouse": self.warehouse.code,
            "customer": {"name": "Ann Buyer", "email": "ann@example.com"},
            "lines": [{"sku": sku, "quantity": quantity}],
            "reference": "CC-1",
            **extra,
        }
        return self.call("POST", "/reservations", body=body)

    def available(self):
        items = self.call("GET", "/stock?skus=SKU-1").json()["items"]
        return [i for i in items if i["warehouse"] == self.warehouse.code][0][
            "available"
        ]

    def test_reserve_confirm_into_an_order_and_a_picking_at_the_store(self):
        response = self.reserve(4)
        self.assertEqual(response.status_code, 201, response.text)
        body = response.json()
        self.assertEqual(
            (body["state"], body["warehouse"]), ("active", self.warehouse.code)
        )
        self.assertEqual(self.available(), 6)
        confirmed = self.call("POST", f"/reservations/{body['id']}/confirm")
        self.assertEqual(confirmed.status_code, 200, confirmed.text)
        reservation = self.env["retail.api.reservation"].browse(body["id"])
        sale = reservation.sale_order_id
        self.assertEqual(confirmed.json()["order"], sale.name)
        self.assertEqual(sale.state, "sale")
        self.assertEqual(sale.warehouse_id, self.warehouse)
        self.assertEqual(sale.picking_ids.picking_type_id.warehouse_id, self.warehouse)
        self.assertEqual(sale.partner_id.email, "ann@example.com")
        # the picking now holds the stock, the reservation no longer does
        self.assertEqual(self.available(), 6)
        self.assertProblem(
            self.call("POST", f"/reservations/{body['id']}/confirm"), 409, "conflict"
        )
        self.assertProblem(
            self.call("POST", f"/reservations/{body['id']}/release"), 409, "conflict"
        )

    def test_insufficient_stock_and_release(self):
        Partner = self.env["res.partner"]
        partners = Partner.search_count([])
        problem = self.assertProblem(self.reserve(11), 409, "insufficient_stock")
        self.assertIn("SKU-1: 10 available", problem["errors"][0]["detail"])
        self.assertFalse(
            self.env["retail.api.reservation"].search(
                [("client_id", "=", self.client_rec.id)]
            )
        )
        self.assertEqual(
            Partner.search_count([]), partners, "a refusal creates nothing"
        )
        first = self.reserve(8).json()
        self.assertProblem(self.reserve(3), 409, "insufficient_stock")
        released = self.call("POST", f"/reservations/{first['id']}/release")
        self.assertEqual(released.json()["state"], "released")
        self.assertEqual(self.reserve(3).status_code, 201)
        status = self.call("GET", f"/reservations/{first['id']}").json()
        self.assertEqual(status["release_reason"], "Released by the client.")

    def test_validation_scope_and_warehouse_refusals(self):
        for extra, pointer in (
            ({"lines": []}, "#/lines"),
            ({"lines": [{"sku": "SKU-1", "quantity": 0}]}, "#/lines/0/quantity"),
            ({"expires_in_minutes": 1}, "#/expires_in_minutes"),
            ({"customer": {"name": "A", "email": "nope"}}, "#/customer/email"),
            ({"colour": "red"}, "#/colour"),
            ({"warehouse": ""}, "#/warehouse"),
        ):
            problem = self.assertProblem(self.reserve(**extra), 422, "validation_error")
            self.assertIn(pointer, [e["pointer"] for e in problem["errors"]], extra)
        self.assertProblem(self.reserve(sku="NOPE"), 404, "not_found")
        far = self.env["stock.warehouse"].create(
            {"name": "Far store", "code": "FAR2", "company_id": self.other_company.id}
        )
        self.assertProblem(self.reserve(warehouse=far.code), 404, "not_found")
        self.assertProblem(self.call("GET", "/reservations/999999"), 404, "not_found")
        self.assertProblem(self.call("GET", "/reservations/abc"), 404, "not_found")
        other = self._new_client("Other", ("reservations:write",))
        key, _rec = self.env["retail.api.key"]._generate(other)
        mine = self.reserve(1).json()
        self.assertProblem(
            self.call("GET", f"/reservations/{mine['id']}", key=key), 404, "not_found"
        )

    def _subscribe(self):
        self.startPatcher(allow_private_urls())
        return self.env["retail.event.subscription"].create(
            {
                "name": "Reservations",
                "backend_id": self.backend.id,
                "url": "http://127.0.0.1:9/hooks",
                "signing_secret": SECRET,
                "event_type_ids": [
                    (
                        6,
                        0,
                        self.env.ref(
                            "retail_integration_api.event_type_reservation_released"
                        ).ids,
                    )
                ],
            }
        )

    def events(self):
        self.env.cr.precommit.run()
        events = self.env["retail.outbox.event"].search(
            [("event_type", "=", "reservation.released")]
        )
        for event in events:
            jsonschema.validate(event.payload, SCHEMA)  # the published contract
        return events

    def test_expired_reservations_release_themselves(self):
        self._subscribe()
        body = self.reserve(5).json()
        reservation = self.env["retail.api.reservation"].browse(body["id"])
        self.env["retail.api.reservation"]._cron_expire()
        self.assertEqual(reservation.state, "active")
        reservation.expires_at = fields.Datetime.now() - timedelta(seconds=1)
        self.env["retail.api.reservation"]._cron_expire()
        self.assertEqual(reservation.state, "expired")
        self.assertEqual(self.available(), 10)
        [event] = self.events()
        self.assertEqual(event.payload["state"], "expired")

    def test_past_its_expiry_a_reservation_holds_nothing_and_cannot_be_confirmed(
        self,
    ):
        """Before the expiry cron has run."""
        body = self.reserve(5).json()
        self.assertEqual(self.available(), 5)
        reservation = self.env["retail.api.reservation"].browse(body["id"])
        reservation.expires_at = fields.Datetime.now() - timedelta(seconds=1)
        self.assertEqual(self.available(), 10)
        problem = self.assertProblem(
            self.call("POST", f"/reservations/{body['id']}/confirm"), 409, "conflict"
        )
        self.assertIn("expired", problem["detail"])
        self.assertFalse(reservation.sale_order_id)
        self.assertEqual(reservation.state, "active")  # the cron's to mark

    def test_the_customer_is_matched_by_exact_email_in_the_clients_company(self):
        """A channel's % or _ is no wildcard; case does not matter."""
        Partner = self.env["res.partner"]
        known = Partner.create({"name": "Ann Known", "email": "Ann@Example.com"})
        elsewhere = Partner.create(
            {
                "name": "Other company's",
                "email": "bob@example.com",
                "company_id": self.other_company.id,
            }
        )
        cases = {
            "ann@example.COM": known,
            "%@%": None,
            "ann@%": None,
            "_nn@example.com": None,
            "bob@example.com": None,
        }
        for email, expected in cases.items():
            with self.subTest(email=email):
                response = self.reserve(1, customer={"name": "Mallory", "email": email})
                self.assertEqual(response.status_code, 201, response.text)
                partner = (
                    self.env["retail.api.reservation"]
                    .browse(response.json()["id"])
                    .partner_id
                )
                if expected:
                    self.assertEqual(partner, expected)
                else:
                    self.assertNotIn(partner, known | elsewhere)
                    self.assertEqual(partner.name, "Mallory")

    def test_compensation_when_the_store_cannot_fulfil(self):
        self._subscribe()
        body = self.reserve(2).json()
        self.call("POST", f"/reservations/{body['id']}/confirm")
        reservation = self.env["retail.api.reservation"].browse(body["id"])
        reservation.action_cannot_fulfil()
        self.assertEqual(reservation.state, "released")
        self.assertEqual(reservation.sale_order_id.state, "cancel")
        [event] = self.events()
        self.assertEqual(
            (event.payload["id"], event.payload["reason"], event.payload["order"]),
            (
                reservation.id,
                "The store cannot fulfil it.",
                reservation.sale_order_id.name,
            ),
        )
        self.assertEqual(event.payload["lines"], [{"sku": "SKU-1", "quantity": 2.0}])
