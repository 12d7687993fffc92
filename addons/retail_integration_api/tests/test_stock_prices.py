from odoo.tests import HttpCase, tagged

from .common import ApiMixin


@tagged("retail", "-at_install", "post_install")
class TestStockAndPrices(ApiMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_api()

    def level(self, response, sku):
        [item] = [i for i in response.json()["items"] if i["sku"] == sku]
        return item

    def test_free_quantity_less_reservations_and_safety_buffer(self):
        response = self.call(
            "GET", f"/stock?skus=SKU-1,SKU-2,NOPE&warehouse={self.warehouse.code}"
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["unknown_skus"], ["NOPE"])
        self.assertEqual(self.level(response, "SKU-1")["available"], 10)
        self.backend.storefront_safety_buffer = 2
        self.env["retail.api.reservation"]._reserve(
            self.client_rec,
            self.warehouse,
            self.env["res.partner"].create({"name": "Holder"}),
            {self.product_1: 3.0},
            60,
            None,
        )
        item = self.level(self.call("GET", "/stock?skus=SKU-1"), "SKU-1")
        self.assertEqual(
            item,
            {
                "sku": "SKU-1",
                "warehouse": self.warehouse.code,
                "on_hand": 10.0,
                "reserved": 3.0,
                "available": 5,
            },
        )
        self.backend.storefront_safety_buffer = 50
        self.assertEqual(
            self.level(self.call("GET", "/stock?skus=SKU-1"), "SKU-1")["available"], 0
        )

    def test_validation_errors(self):
        cases = {
            "/stock": "skus",
            "/stock?skus=": "skus",
            "/stock?skus=" + ",".join(f"S{i}" for i in range(501)): "skus",
            "/stock?skus=SKU-1&colour=red": "colour",
            "/stock?skus=" + "x" * 65: "skus.0",
        }
        for path, pointer in cases.items():
            problem = self.assertProblem(
                self.call("GET", path), 422, "validation_error"
            )
            self.assertIn(pointer, [e["pointer"] for e in problem["errors"]], path[:60])
            self.assertTrue(all(e["in"] == "query" for e in problem["errors"]))

    def test_500_skus_are_served(self):
        skus = ",".join(["SKU-1"] + [f"S{i}" for i in range(499)])
        response = self.call("GET", f"/stock?skus={skus}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(response.json()["unknown_skus"]), 499)

    def test_warehouses_outside_the_client_are_refused(self):
        """Another company's warehouse is not found, as an unknown one; one of
        the client's company outside its list is refused."""
        other_company_wh = self.env["stock.warehouse"].create(
            {"name": "Far store", "code": "FAR1", "company_id": self.other_company.id}
        )
        self.assertProblem(
            self.call("GET", f"/stock?skus=SKU-1&warehouse={other_company_wh.code}"),
            404,
            "not_found",
        )
        own_store = self.env["stock.warehouse"].create(
            {"name": "Store 2", "code": "ST2"}
        )
        self.client_rec.warehouse_ids = self.warehouse
        self.assertProblem(
            self.call("GET", "/stock?skus=SKU-1&warehouse=ST2"),
            403,
            "warehouse_forbidden",
        )
        self.assertNotIn(
            own_store.code,
            {
                i["warehouse"]
                for i in self.call("GET", "/stock?skus=SKU-1").json()["items"]
            },
        )
        self.assertProblem(
            self.call("GET", "/stock?skus=SKU-1&warehouse=NONE"), 404, "not_found"
        )

    def test_etag_and_if_none_match(self):
        first = self.call("GET", "/stock?skus=SKU-1")
        tag = first.headers["ETag"]
        again = self.call("GET", "/stock?skus=SKU-1", headers={"If-None-Match": tag})
        self.assertEqual(again.status_code, 304)
        self.assertEqual(again.content, b"")
        self.assertEqual(again.headers["ETag"], tag)
        self.env["stock.quant"]._update_available_quantity(
            self.product_1, self.warehouse.lot_stock_id, 1
        )
        changed = self.call("GET", "/stock?skus=SKU-1", headers={"If-None-Match": tag})
        self.assertEqual(changed.status_code, 200)
        self.assertNotEqual(changed.headers["ETag"], tag)

    def test_prices_for_quantities(self):
        response = self.call("GET", "/prices?skus=SKU-1,NOPE")
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        self.assertEqual(body["pricelist"], self.pricelist.name)
        self.assertEqual(body["items"][0]["unit_price"], "20.00")
        self.assertEqual(body["items"][0]["currency"], self.currency.name)
        self.assertEqual(body["unknown_skus"], ["NOPE"])
        bulk = self.call("GET", "/prices?skus=SKU-1&quantity=10").json()
        self.assertEqual(bulk["items"][0]["unit_price"], "18.00")
        self.assertTrue(self.call("GET", "/prices?skus=SKU-1").headers["ETag"])

    def test_prices_validation_errors(self):
        for path, pointer in {
            "/prices?skus=SKU-1&quantity=0": "quantity",
            "/prices?skus=SKU-1&quantity=abc": "quantity",
            "/prices?skus=SKU-1&quantity=1.0001": "quantity",
            "/prices": "skus",
        }.items():
            problem = self.assertProblem(
                self.call("GET", path), 422, "validation_error"
            )
            self.assertEqual(problem["errors"][0]["pointer"], pointer, path)

    def test_prices_without_pricelist(self):
        self.backend.pricelist_id = False
        self.assertProblem(self.call("GET", "/prices?skus=SKU-1"), 409, "conflict")
