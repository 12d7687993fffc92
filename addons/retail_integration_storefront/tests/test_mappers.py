from datetime import datetime
from decimal import Decimal

from odoo.tests import BaseCase, tagged

from odoo.addons.retail_integration.lib.canonical import Fee, RefundLine, totals_match
from odoo.addons.retail_integration.lib.parsing import MappingError

from ..lib.generic.mapper import generic_order
from ..lib.shopify.graphql_order import shopify_graphql_order
from ..lib.shopify.mapper import shopify_order, shopify_refund
from ..lib.shopify.payouts import shopify_balance_line, shopify_payout
from ..lib.woocommerce.mapper import (
    woocommerce_order,
    woocommerce_refund,
    woocommerce_refund_ids,
)
from . import payloads
from .channel_woocommerce import woo_refund
from .test_payouts import shopify_txn


@tagged("retail", "-at_install", "post_install")
class TestMappers(BaseCase):
    def test_generic_sample_order(self):
        order = generic_order(payloads.generic_order())
        self.assertEqual(
            (order.external_id, order.name, order.currency), ("1001", "#1001", "USD")
        )
        self.assertEqual(order.total, Decimal("65.90"))
        self.assertEqual(order.financial_status, "paid")
        self.assertTrue(order.is_paid)
        self.assertEqual(order.customer.external_id, "C-501")
        self.assertEqual(order.shipping_address.street2, "Apt 3")
        self.assertEqual(order.lines[1].discount, Decimal("4.00"))
        self.assertEqual(order.lines[1].discount_label, "WELCOME")
        self.assertEqual(order.shipping[0].price, Decimal("5.90"))
        self.assertEqual(order.updated_at, datetime(2025, 3, 1, 10, 15))

    def test_generic_fees(self):
        order = generic_order(
            payloads.generic_order(
                fees=[
                    {"name": "Gift wrap", "amount": "5.00", "taxable": True},
                    {"name": "Loyalty discount", "amount": -3},
                    {"amount": "1.50"},
                    {"name": "Free wrap", "amount": "0.00", "taxable": True},
                ]
            )
        )
        self.assertEqual(
            order.fees,
            (
                Fee("Gift wrap", Decimal("5.00"), taxable=True),
                Fee("Loyalty discount", Decimal(-3)),
                Fee("Fee", Decimal("1.50")),
            ),
            "named Fee and untaxed by default; fees of zero are left out",
        )
        # an order without fees keeps the fingerprint it had before fees existed
        self.assertEqual(
            generic_order(payloads.generic_order(fees=[])).lines_fingerprint(),
            generic_order(payloads.generic_order()).lines_fingerprint(),
        )
        self.assertNotEqual(
            order.lines_fingerprint(),
            generic_order(payloads.generic_order()).lines_fingerprint(),
        )

    def test_shopify_order(self):
        order = shopify_order(payloads.shopify_order())
        self.assertEqual(order.external_id, "820982911946154508")
        self.assertEqual(order.name, "#9999")
        self.assertEqual(order.customer.name, "Jon Doe")
        self.assertEqual(order.customer.external_id, "115310627314723954")
        self.assertEqual(order.lines[0].product_ref, "808950810")
        self.assertEqual(order.lines[0].discount, Decimal("5.00"))
        self.assertEqual(order.lines[0].discount_label, "TENOFF")
        self.assertEqual(order.shipping_address.company, "Shipping Company")
        self.assertEqual(order.billing.state_code, "KY")
        self.assertEqual(order.shipping[0].price, Decimal("17.00"))
        self.assertEqual(order.total, Decimal("62.00"))
        self.assertEqual(order.status, "open")
        self.assertEqual(order.updated_at, datetime(2025, 3, 1, 15, 0, 5))

    def test_shopify_cancelled_guest(self):
        order = shopify_order(
            payloads.shopify_order(
                customer=None,
                cancelled_at="2025-03-02T10:00:00Z",
                financial_status="voided",
            )
        )
        self.assertEqual(order.status, "cancelled")
        self.assertEqual(order.financial_status, "voided")
        self.assertEqual(order.customer.external_id, "")
        self.assertEqual(order.customer.email, "jon@example.com")

    def test_shopify_refund(self):
        refund = shopify_refund(payloads.SHOPIFY_REFUND)
        self.assertEqual(
            refund[:3], ("820982911946154508", "509562969", Decimal("10.00"))
        )
        self.assertEqual(
            refund.lines,
            (RefundLine("SKU-2", Decimal(1), Decimal(10), "cancel", "808950811"),),
        )
        self.assertEqual((refund.shipping, refund.note), (Decimal(0), "Damaged"))
        returned = dict(
            payloads.SHOPIFY_REFUND,
            order_adjustments=[
                {"kind": "shipping_refund", "amount": "-17.00", "tax_amount": "0.00"},
                {"kind": "refund_discrepancy", "amount": "-1.00"},
            ],
        )
        returned["refund_line_items"] = [
            dict(item, restock_type=kind)
            for kind, item in zip(
                ("return", "legacy_restock", "no_restock", "what?"),
                payloads.SHOPIFY_REFUND["refund_line_items"] * 4,
                strict=True,
            )
        ]
        refund = shopify_refund(returned)
        self.assertEqual(
            [line.restock for line in refund.lines],
            ["return", "return", "none", "none"],
        )
        self.assertEqual(refund.shipping, Decimal(17))
        hostile = dict(payloads.SHOPIFY_REFUND, refund_line_items=[{"quantity": "x"}])
        with self.assertRaisesRegex(MappingError, "quantity is not a number"):
            shopify_refund(hostile)

    def test_woocommerce_refund(self):
        mug, cap = payloads.WOO_ORDER["line_items"]
        refund = woocommerce_refund(
            woo_refund(9, "30.00", [(mug, 1, "13.50"), (cap, 0, "6.50")], "10.00"),
            727,
        )
        self.assertEqual(
            (refund.order_external_id, refund.external_id, refund.amount),
            ("727", "9", Decimal("30.00")),
        )
        self.assertEqual(refund.shipping, Decimal("10.00"))
        self.assertEqual(
            refund.lines,
            (
                RefundLine("SKU-1", Decimal(1), Decimal("13.50"), "return", "93"),
                RefundLine("SKU-2", Decimal(0), Decimal("6.50"), "none", "23"),
            ),
        )
        listed = payloads.woo_order(refunds=[{"id": 9, "total": "-30.00"}])
        self.assertEqual(woocommerce_refund_ids(listed), ("9",))
        self.assertEqual(woocommerce_refund_ids(payloads.woo_order()), ())
        for hostile, cause in (
            (dict(woo_refund(9, "1.00"), amount="-1"), "may not be negative"),
            (dict(woo_refund(9, "1.00"), line_items={}), "must be a list"),
            (dict(woo_refund(9, "1.00"), id=None), "id is missing"),
            (woo_refund(9, "1.00", [(mug, -2, "1.00")]), "may not be positive"),
        ):
            with self.assertRaisesRegex(MappingError, cause):
                woocommerce_refund(hostile, 727)

    def test_shopify_payments_payout_and_transactions(self):
        node = {
            "id": "gid://shopify/ShopifyPaymentsPayout/42",
            "legacyResourceId": "42",
            "issuedAt": "2025-03-04T00:00:00Z",
            "status": "PAID",
            "net": {"amount": "59.90", "currencyCode": "usd"},
        }
        payout = shopify_payout(node)
        self.assertEqual(
            (payout.external_id, payout.amount, payout.currency, payout.arrival),
            ("42", Decimal("59.90"), "USD", 1741046400),
        )
        line = shopify_balance_line(shopify_txn(7, "CHARGE", "62.00", "2.10", "99"), 0)
        self.assertEqual(
            (line.external_id, line.kind, line.amount, line.fee, line.net),
            ("7", "charge", Decimal("62.00"), Decimal("2.10"), Decimal("59.90")),
        )
        self.assertEqual(line.order_external_id, "99")
        self.assertIn("(transaction 9007)", line.description)
        self.assertEqual(
            shopify_balance_line(shopify_txn(8, "RESERVED_FUNDS", "-5.00"), 1).kind,
            "adjustment",
        )
        self.assertIsNone(shopify_balance_line(shopify_txn(9, "PAYOUT", "-1.00"), 2))
        for hostile, cause in (
            (dict(node, legacyResourceId="1 OR 1"), "must be a number"),
            (dict(node, net={"amount": "-1", "currencyCode": "USD"}), "negative"),
            (dict(node, issuedAt="yesterday"), "ISO 8601"),
        ):
            with self.assertRaisesRegex(MappingError, cause):
                shopify_payout(hostile)
        with self.assertRaisesRegex(MappingError, "amount is not a number"):
            shopify_balance_line(shopify_txn(7, "CHARGE", "x", net="1"), 0)

    def test_woocommerce_order(self):
        order = woocommerce_order(payloads.woo_order())
        self.assertEqual((order.external_id, order.name), ("727", "727"))
        self.assertEqual(order.financial_status, "paid")
        self.assertEqual(order.lines[0].unit_price, Decimal(15))
        self.assertEqual(order.lines[0].discount, Decimal(3))
        self.assertEqual(order.lines[0].discount_label, "spring")
        self.assertEqual(order.lines[1].product_ref, "23")
        self.assertEqual(order.customer.external_id, "26")
        self.assertEqual(order.customer.email, "john.doe@example.com")
        self.assertEqual(order.shipping[0].code, "flat_rate")

    def test_woocommerce_prices_including_tax_as_the_customer_saw_them(self):
        payload = payloads.woo_order(prices_include_tax=True, coupon_lines=[])
        payload["line_items"] = [
            dict(
                payload["line_items"][1],
                subtotal="10.00",
                subtotal_tax="2.00",
                total="10.00",
                total_tax="2.00",
            )
        ]
        payload["shipping_lines"][0].update(total="5.00", total_tax="1.00")
        order = woocommerce_order(payload)
        self.assertTrue(order.prices_include_tax)
        self.assertEqual(order.lines[0].unit_price, Decimal(12))
        self.assertEqual(order.lines[0].discount, Decimal(0))
        self.assertEqual(order.shipping[0].price, Decimal(6))

    def test_woocommerce_fee_lines(self):
        payload = payloads.woo_order(
            fee_lines=[
                payloads.woo_fee(),
                payloads.WOO_DISCOUNT_FEE,
                payloads.woo_fee(id=321, name="Free wrap", total="0.00", total_tax="0"),
            ]
        )
        order = woocommerce_order(payload)
        self.assertEqual(
            order.fees,
            (
                Fee("Gift wrap", Decimal("5.00"), taxable=True),
                Fee("Loyalty discount", Decimal("-3.00")),
            ),
            "fees of zero are left out",
        )
        included = woocommerce_order(dict(payload, prices_include_tax=True))
        self.assertEqual(included.fees[0].amount, Decimal("5.50"))
        self.assertNotEqual(order.lines_fingerprint(), included.lines_fingerprint())
        # an order without fees keeps the fingerprint it had before fees existed
        without = woocommerce_order(payloads.woo_order())
        self.assertEqual(
            without.lines_fingerprint(),
            woocommerce_order(
                payloads.woo_order(fee_lines=[payloads.woo_fee(total="0.00")])
            ).lines_fingerprint(),
        )

    def test_shopify_tip_and_duties(self):
        order = shopify_order(payloads.shopify_order_with_tip_and_duties())
        self.assertEqual(len(order.lines), 2, "the tip is not a product line")
        self.assertEqual(
            order.fees, (Fee("Tip", Decimal("5.00")), Fee("Duties", Decimal("8.00")))
        )
        self.assertEqual(order.total, Decimal("75.00"))
        # no tip line: the order's tip total; no duty totals: the lines' duties
        payload = payloads.shopify_order_with_tip_and_duties(
            original_total_duties_set=None, current_total_duties_set=None
        )
        payload["line_items"].pop()
        duty = payload["line_items"][0]["duties"][0]
        payload["line_items"][1]["duties"] = [
            {"id": "3", "price_set": {"shop_money": duty.pop("shop_money")}}
        ]
        order = shopify_order(payload)
        self.assertEqual(
            order.fees,
            (Fee("Tip", Decimal("5.00")), Fee("Duties", Decimal("8.00"))),
        )
        # a tip of zero, as every order has, is no fee
        self.assertEqual(shopify_order(payloads.shopify_order()).fees, ())

    def test_shopify_graphql_order_tip_and_duties(self):
        node = {
            "legacyResourceId": "1002",
            "currencyCode": "USD",
            "totalPriceSet": {"shopMoney": {"amount": "75.0"}},
            "totalTipReceivedSet": {"shopMoney": {"amount": "5.0"}},
            "originalTotalDutiesSet": {"shopMoney": {"amount": "8.0"}},
            "currentTotalDutiesSet": {"shopMoney": {"amount": "6.0"}},
            "lineItems": {
                "nodes": [
                    {
                        "id": "gid://shopify/LineItem/1",
                        "sku": "SKU-1",
                        "quantity": 1,
                        "originalUnitPriceSet": {"shopMoney": {"amount": "62.0"}},
                    }
                ]
            },
        }
        order = shopify_order(shopify_graphql_order(node))
        self.assertEqual(
            order.fees,
            (Fee("Tip", Decimal("5.0")), Fee("Duties", Decimal("8.0"))),
            "the duties charged with the order, before returns",
        )
        node.update(totalTipReceivedSet={"shopMoney": {"amount": "0.0"}})
        node.update(originalTotalDutiesSet=None, currentTotalDutiesSet=None)
        self.assertEqual(shopify_order(shopify_graphql_order(node)).fees, ())

    def test_woocommerce_status_and_guest(self):
        order = woocommerce_order(
            payloads.woo_order(status="cancelled", customer_id=0, date_paid_gmt=None)
        )
        self.assertEqual(
            (order.status, order.financial_status), ("cancelled", "pending")
        )
        self.assertEqual(order.customer.external_id, "")
        pending = woocommerce_order(
            payloads.woo_order(status="on-hold", date_paid_gmt=None)
        )
        self.assertEqual(pending.financial_status, "pending")

    def test_malformed_and_hostile_payloads(self):
        def generic(**changes):
            return payloads.generic_order(**changes)

        def line(**changes):
            lines = payloads.generic_order()["lines"]
            lines[0] = dict(lines[0], **changes)
            return generic(lines=lines)

        cases = [
            ([1, 2], "The order must be an object"),
            (generic(id=None), "id is missing"),
            (generic(id={"a": 1}), "id must be a text"),
            (generic(currency=None), "currency is missing"),
            (generic(total="12,50"), "total is not a number"),
            (generic(total=float("nan")), "total must be a finite number"),
            (generic(total=True), "total must be a number"),
            (generic(total="-1"), "total may not be negative"),
            (generic(lines="many"), "lines must be a list"),
            (generic(lines=[]), "has no lines"),
            (generic(lines=["x"]), "lines[0] must be an object"),
            (generic(financial_status="stolen"), "financial_status must be one of"),
            (
                generic(prices_include_tax="yes"),
                "prices_include_tax must be true or false",
            ),
            (generic(updated_at="yesterday"), "updated_at is not an ISO 8601"),
            (generic(name="x" * 600), "name is longer than"),
            (line(quantity=0), "the quantity 0 is not between"),
            (line(quantity="1e9"), "is not between 0 and"),
            (line(quantity=None), "lines[0].quantity is missing"),
            (line(unit_price="-5"), "lines[0].unit_price may not be negative"),
            (line(unit_price="1e12"), "lines[0].unit_price is too large"),
            (line(discount="100"), "the discount is larger than the line"),
            (line(sku=None), "names no SKU and no product"),
            (generic(fees={"amount": 1}), "fees must be a list"),
            (generic(fees=[3]), "fees[0] must be an object"),
            (generic(fees=[{"name": "Wrap"}]), "fees[0].amount is missing"),
            (generic(fees=[{"amount": "2,00"}]), "fees[0].amount is not a number"),
            (generic(fees=[{"amount": True}]), "fees[0].amount must be a number"),
            (generic(fees=[{"amount": "1e12"}]), "fees[0].amount is too large"),
            (
                generic(fees=[{"amount": 1}, {"amount": 1, "taxable": "yes"}]),
                "fees[1].taxable must be true or false",
            ),
            (
                generic(fees=[{"amount": 0, "name": ["x"]}]),
                "fees[0].name must be a text",
            ),
            (generic(fees=[{"amount": 1}] * 501), "fees has more than 500"),
            (
                generic(lines=[{"sku": "A", "quantity": 1, "unit_price": 1}] * 501),
                "more than 500",
            ),
        ]
        for payload, message in cases:
            with (
                self.subTest(message=message),
                self.assertRaises(MappingError) as caught,
            ):
                generic_order(payload)
            self.assertIn(message, str(caught.exception))
        with self.assertRaisesRegex(MappingError, "not a Shopify status"):
            shopify_order(payloads.shopify_order(financial_status="free"))
        with self.assertRaisesRegex(MappingError, "line_items\\[0\\].price is missing"):
            bad = payloads.shopify_order()
            del bad["line_items"][0]["price"]
            shopify_order(bad)
        with self.assertRaisesRegex(MappingError, "fee_lines\\[0\\].total is not"):
            woocommerce_order(payloads.woo_order(fee_lines=[{"total": "2,00"}]))
        with self.assertRaisesRegex(
            MappingError, "original_total_duties_set.shop_money must be an object"
        ):
            shopify_order(
                payloads.shopify_order(original_total_duties_set={"shop_money": "8"})
            )
        with self.assertRaisesRegex(MappingError, "not a WooCommerce order status"):
            woocommerce_order(payloads.woo_order(status="shipped"))

    def test_totals_match_within_the_currency_rounding(self):
        self.assertTrue(totals_match(65.9, "65.90", 0.01))
        self.assertTrue(totals_match(65.91, "65.90", 0.01))
        self.assertFalse(totals_match(65.92, "65.90", 0.01))
        self.assertTrue(totals_match(1000, "1001", 1))

    def test_fingerprint_ignores_status(self):
        paid = generic_order(payloads.generic_order())
        pending = generic_order(payloads.generic_order(financial_status="pending"))
        self.assertEqual(paid.lines_fingerprint(), pending.lines_fingerprint())
        more = payloads.generic_order()
        more["lines"][0]["quantity"] = 3
        self.assertNotEqual(
            paid.lines_fingerprint(), generic_order(more).lines_fingerprint()
        )
