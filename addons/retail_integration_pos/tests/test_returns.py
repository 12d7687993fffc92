from odoo.tests import tagged

from .common import PosCase, ticket

RETURN_LINE = {"sku": "POS-1", "quantity": -1, "unit_price": "10.00"}
REFUND = [{"method": "card", "amount": "-10.00"}]


@tagged("retail", "-at_install", "post_install")
class TestReturns(PosCase):
    def test_a_return_with_its_receipt_links_to_the_sold_line(self):
        self.send_tickets([ticket(1001)])
        self.send_tickets(
            [
                ticket(
                    1002,
                    type="return",
                    lines=[RETURN_LINE],
                    payments=REFUND,
                    original={"number": "1001", "register": "R1"},
                )
            ]
        )
        refund = self.tickets(1002).pos_order_id
        original = self.tickets(1001).pos_order_id
        self.assertEqual(refund.amount_total, -10.0)
        self.assertEqual(refund.refunded_order_id, original)
        sold = original.lines.filtered(lambda ln: ln.product_id == self.product_1)
        self.assertEqual(refund.lines.refunded_orderline_id, sold)
        self.assertEqual(sold.refunded_qty, 1)
        self.assertFalse(refund.retail_needs_review)
        # Returning more than was sold is refused in plain words.
        self.send_tickets(
            [
                ticket(
                    1003,
                    type="return",
                    payments=[{"method": "card", "amount": "-20.00"}],
                    lines=[{**RETURN_LINE, "quantity": -2}],
                    original={"number": "1001"},
                )
            ]
        )
        self.assertIn("more than ticket 1001 sold", self.tickets(1003).error)

    def test_returns_in_one_upload_give_back_no_more_than_was_sold(self):
        """The sale sold 2 × POS-1; three returns of one in the same upload:
        the third is refused, as it would be in an upload of its own."""
        self.send_tickets([ticket(1001)])
        returns = [
            ticket(
                n,
                type="return",
                lines=[RETURN_LINE],
                payments=REFUND,
                original={"number": "1001", "register": "R1"},
            )
            for n in (1002, 1003, 1004)
        ]
        self.send_tickets(returns)
        sold = self.tickets(1001).pos_order_id.lines.filtered(
            lambda ln: ln.product_id == self.product_1
        )
        self.assertEqual(sold.refunded_qty, 2)
        self.assertTrue(self.tickets(1002).pos_order_id)
        self.assertTrue(self.tickets(1003).pos_order_id)
        self.assertFalse(self.tickets(1004).pos_order_id)
        self.assertIn("more than ticket 1001 sold", self.tickets(1004).error)

    def test_an_exchange_gives_back_one_line_and_sells_another(self):
        self.send_tickets([ticket(1001)])
        swap = {"sku": "POS-2", "quantity": 1, "unit_price": "5.00"}
        self.send_tickets(
            [
                ticket(
                    1002,
                    type="exchange",
                    lines=[RETURN_LINE, swap],
                    payments=[{"method": "card", "amount": "-4.50"}],
                    original={"number": "1001"},
                )
            ]
        )
        order = self.tickets(1002).pos_order_id
        self.assertEqual(order.amount_total, -4.5)
        returned = order.lines.filtered(lambda ln: ln.qty < 0)
        self.assertEqual(returned.refunded_orderline_id.order_id.pos_reference, "1001")
        self.assertFalse(
            order.lines.filtered(lambda ln: ln.qty > 0).refunded_orderline_id
        )

    def test_a_return_waits_for_its_original(self):
        self.send_tickets(
            [
                ticket(
                    2002,
                    register="R2",
                    type="return",
                    lines=[RETURN_LINE],
                    payments=REFUND,
                    original={"number": "2001", "register": "R2"},
                )
            ]
        )
        self.assertEqual(self.tickets(2002, register="R2").state, "waiting")
        self.send_tickets([ticket(2001, register="R2")])
        self.assertEqual(self.tickets(2002, register="R2").state, "done")
        self.assertTrue(
            self.tickets(2002, register="R2").pos_order_id.lines.refunded_orderline_id
        )

    def test_a_return_whose_original_never_comes(self):
        self.backend.pos_return_wait_hours = 0
        self.send_tickets(
            [
                ticket(
                    1009,
                    type="return",
                    lines=[RETURN_LINE],
                    payments=REFUND,
                    original={"number": "999"},
                )
            ]
        )
        refund = self.tickets(1009).pos_order_id
        self.assertTrue(refund.retail_needs_review)
        self.assertFalse(refund.lines.refunded_orderline_id)

    def test_a_return_without_receipt_is_flagged_or_refused(self):
        self.send_tickets(
            [ticket(1001, type="return", lines=[RETURN_LINE], payments=REFUND)]
        )
        refund = self.tickets(1001).pos_order_id
        self.assertTrue(refund.retail_needs_review)
        review = self.env["retail.sync.exception"].search(
            [("res_model", "=", "pos.order"), ("res_id", "=", refund.id)]
        )
        self.assertIn("names no original ticket (receipt lost)", review.cause)
        refund.action_retail_mark_reviewed()
        self.assertFalse(refund.retail_needs_review)
        self.backend.pos_unreferenced_returns = "refuse"
        self.send_tickets(
            [ticket(1002, type="return", lines=[RETURN_LINE], payments=REFUND)]
        )
        self.assertEqual(self.tickets(1002).state, "failed")
        self.assertIn("refuses returns without receipt", self.tickets(1002).error)
