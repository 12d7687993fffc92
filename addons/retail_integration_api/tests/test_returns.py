from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from .common import ApiMixin


@tagged("retail", "-at_install", "post_install")
class TestReturns(ApiMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_api()

    def setUp(self):
        super().setUp()
        response = self.call(
            "POST",
            "/orders",
            body=self.order_data(id="R-1", name="#R-1", financial_status="paid"),
            headers={"Idempotency-Key": "r-1"},
        )
        self.assertEqual(response.status_code, 201, response.text)
        self.sale = self.order_of("R-1")
        delivery = self.sale.picking_ids
        delivery.action_assign()
        for move in delivery.move_ids:
            move.quantity = move.product_uom_qty
        delivery.button_validate()
        self.assertEqual(delivery.state, "done")

    def open(self, lines, reason="damaged"):
        return self.call(
            "POST",
            "/returns",
            body={"order_id": "R-1", "lines": lines, "reason": reason},
        )

    def test_return_to_refund(self):
        response = self.open([{"sku": "SKU-1", "quantity": 1}])
        self.assertEqual(response.status_code, 201, response.text)
        body = response.json()
        ret = self.env["retail.api.return"].browse(body["id"])
        self.assertEqual(
            (body["state"], body["picking"]), ("open", ret.picking_id.name)
        )
        self.assertEqual(ret.picking_id.picking_type_code, "incoming")
        # no refund before the goods are back
        with self.assertRaises(UserError):
            ret.action_refund()
        with self.assertRaises(UserError):
            ret.action_inspected()
        for move in ret.picking_id.move_ids:
            move.quantity = move.product_uom_qty
        ret.picking_id.button_validate()
        status = self.call("GET", f"/returns/{ret.id}").json()
        self.assertEqual(status["state"], "received")
        self.assertEqual(
            status["lines"], [{"sku": "SKU-1", "quantity": 1.0, "received": 1.0}]
        )
        with self.assertRaises(UserError):
            ret.action_refund()  # not inspected yet
        ret.action_inspected()
        ret.action_refund()
        self.assertEqual(ret.refund_id.move_type, "out_refund")
        self.assertEqual(ret.refund_id.state, "posted")
        sold = ret.line_ids.sale_line_id
        self.assertAlmostEqual(
            ret.refund_id.amount_untaxed, sold.price_subtotal / sold.product_uom_qty
        )
        self.assertEqual(ret.refund_id.invoice_line_ids.sale_line_ids, sold)
        status = self.call("GET", f"/returns/{ret.id}").json()
        self.assertEqual(
            (status["state"], status["refund"]), ("refunded", ret.refund_id.name)
        )

    def test_return_refusals(self):
        for lines, reason, pointer in (
            ([{"sku": "SKU-3", "quantity": 1}], "damaged", "#/lines/0/sku"),
            ([{"sku": "SKU-1", "quantity": 3}], "damaged", "#/lines/0/quantity"),
            ([], "damaged", "#/lines"),
            ([{"sku": "SKU-1", "quantity": 1}], "bored", "#/reason"),
        ):
            problem = self.assertProblem(
                self.open(lines, reason), 422, "validation_error"
            )
            self.assertIn(pointer, [e["pointer"] for e in problem["errors"]])
        self.assertEqual(self.open([{"sku": "SKU-1", "quantity": 2}]).status_code, 201)
        # nothing left to return
        self.assertProblem(
            self.open([{"sku": "SKU-1", "quantity": 1}]), 422, "validation_error"
        )
        missing = self.call(
            "POST",
            "/returns",
            body={
                "order_id": "NOPE",
                "lines": [{"sku": "SKU-1", "quantity": 1}],
                "reason": "other",
            },
        )
        self.assertProblem(missing, 404, "not_found")
        self.assertProblem(self.call("GET", "/returns/0"), 404, "not_found")
