from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, tagged

from .common import ApiMixin


@tagged("retail", "-at_install", "post_install")
class TestOrders(ApiMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_api()

    def submit(self, data, key="k-1", **kwargs):
        headers = {"Idempotency-Key": key} if key else {}
        return self.call("POST", "/orders", body=data, headers=headers, **kwargs)

    def test_submit_through_the_storefront_import_path(self):
        data = self.order_data(id="API-1", name="#API-1")
        response = self.submit(data)
        self.assertEqual(response.status_code, 201, response.text)
        body = response.json()
        sale = self.order_of("API-1")
        self.assertEqual((body["id"], body["name"]), ("API-1", sale.name))
        self.assertEqual(sale.amount_total, 62.0)
        self.assertEqual(sale.create_uid, self.client_rec.technical_user_id)
        self.assertTrue(sale.retail_correlation_id)
        # the same key and body: the first answer, no second order
        again = self.submit(data)
        self.assertEqual(again.status_code, 201)
        self.assertEqual(again.json(), body)
        self.assertEqual(again.headers["Idempotent-Replayed"], "true")
        # the same key, another body: 409, nothing changed
        other = self.submit(self.order_data(id="API-2", name="#API-2"))
        self.assertProblem(other, 409, "idempotency_key_reused")
        self.assertFalse(self.order_of("API-2"))
        # the same order under a new key: the importer's idempotency, one order
        self.assertEqual(self.submit(data, key="k-2").json()["name"], sale.name)
        self.assertEqual(
            self.env["retail.external.ref"].search_count(
                [("backend_id", "=", self.backend.id), ("external_id", "=", "API-1")]
            ),
            1,
        )

    def test_submit_refusals(self):
        data = self.order_data(id="API-3")
        self.assertProblem(self.submit(data, key=None), 428, "idempotency_key_required")
        self.assertProblem(
            self.submit(data, key="x" * 256), 428, "idempotency_key_required"
        )
        self.assertProblem(
            self.call(
                "POST",
                "/orders",
                raw="id=1",
                headers={
                    "Idempotency-Key": "f",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            ),
            415,
            "unsupported_media_type",
        )
        self.assertProblem(
            self.call(
                "POST",
                "/orders",
                raw="{not json",
                headers={"Idempotency-Key": "j", "Content-Type": "application/json"},
            ),
            422,
            "validation_error",
        )
        self.assertProblem(self.submit([1, 2], key="list"), 422, "validation_error")
        self.assertProblem(
            self.call(
                "POST",
                "/orders",
                raw="[" * 200_000 + "]" * 200_000,  # nested too deep to parse
                headers={"Idempotency-Key": "deep", "Content-Type": "application/json"},
            ),
            422,
            "validation_error",
        )
        self.assertProblem(
            self.call(
                "POST",
                "/orders",
                raw="x" * (1024 * 1024 + 1),
                headers={"Idempotency-Key": "big", "Content-Type": "application/json"},
            ),
            413,
            "payload_too_large",
        )
        # a mapping error (no lines) and an importer refusal (unknown SKU)
        self.assertProblem(
            self.submit({**data, "lines": []}, key="m"), 422, "validation_error"
        )
        bad_total = self.submit({**data, "total": "1.00"}, key="t")
        self.assertProblem(bad_total, 422, "validation_error")
        self.assertFalse(self.order_of("API-3"))
        # a refused request does not use up its key
        response = self.submit(data, key="m")
        self.assertEqual(response.status_code, 201, response.text)

    def test_status_and_listing(self):
        for n in range(3):
            self.submit(self.order_data(id=f"L-{n}", name=f"#L-{n}"), key=f"l-{n}")
        sale = self.order_of("L-1")
        response = self.call("GET", "/orders/L-1")
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        self.assertEqual((body["name"], body["state"]), (sale.name, sale.state))
        self.assertEqual(
            [p["name"] for p in body["pickings"]], sale.picking_ids.mapped("name")
        )
        self.assertEqual(body["amount_total"], "62.00")
        self.assertProblem(self.call("GET", "/orders/NOPE"), 404, "not_found")
        first = self.call("GET", "/orders?limit=2").json()
        self.assertEqual([o["id"] for o in first["items"]], ["L-2", "L-1"])
        rest = self.call("GET", f"/orders?limit=2&cursor={first['next_cursor']}").json()
        self.assertEqual([o["id"] for o in rest["items"]], ["L-0"])
        self.assertIsNone(rest["next_cursor"])
        self.assertProblem(
            self.call("GET", "/orders?cursor=zz"), 422, "validation_error"
        )
        self.assertProblem(self.call("GET", "/orders?limit=0"), 422, "validation_error")
        self.assertProblem(
            self.call("GET", "/orders?limit=201"), 422, "validation_error"
        )

    def test_one_client_per_backend_reaches_its_orders(self):
        """The orders of a backend are one channel's: a second client with an
        order scope on it is refused; stock and price readers may share it."""
        for scope in ("orders:read", "orders:write", "returns:write"):
            with self.subTest(scope=scope), self.assertRaises(ValidationError):
                self._new_client("Second shop", (scope, "stock:read"))
        reader = self._new_client("Stock reader", ("stock:read", "prices:read"))
        with self.assertRaises(ValidationError):
            reader.scope_ids |= self.Scope.search([("code", "=", "orders:read")])
        self.client_rec.active = False
        reader.scope_ids |= self.Scope.search([("code", "=", "orders:read")])
        with self.assertRaises(ValidationError):
            self.client_rec.active = True

    def test_a_chunked_body_is_refused_411(self):
        """A chunked body says nothing of its size, and would be read whole."""
        big = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
        response = self.call(
            "POST",
            "/orders",
            raw=iter([big[:4096], big[4096:]]),
            headers={"Idempotency-Key": "chunked", "Content-Type": "application/json"},
        )
        self.assertProblem(response, 411, "length_required")

    def test_another_clients_orders_are_not_found(self):
        self.submit(self.order_data(id="MINE"), key="mine")
        other_backend = self.backends["shopify"]
        other = self._new_client(
            "Other shop", ("orders:read",), backend_id=other_backend.id
        )
        key, _rec = self.env["retail.api.key"]._generate(other)
        self.assertProblem(self.call("GET", "/orders/MINE", key=key), 404, "not_found")
