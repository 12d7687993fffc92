from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.retail_integration_outbox.tests.common import allow_private_urls

from . import payloads
from .channel_server import WOO_KEY, WOO_SECRET, ChannelServer
from .channel_woocommerce import woo_refund
from .common import StorefrontCase

MUG, CAP = payloads.WOO_ORDER["line_items"]


def listed(*refunds):
    """The order's ``refunds`` as WooCommerce lists them (id, reason, total)."""
    return [
        {"id": r["id"], "reason": r["reason"], "total": f"-{r['amount']}"}
        for r in refunds
    ]


class RefundMixin:
    @classmethod
    def _setup_refunds(cls):
        cls.startClassPatcher(allow_private_urls())
        cls.server = cls.enterClassContext(ChannelServer())
        cls.woo = cls.backends["woocommerce"]
        cls.woo.write(
            {
                "storefront_shop_url": cls.server.url,
                "api_key": WOO_KEY,
                "api_secret": WOO_SECRET,
            }
        )
        cls.bank = cls.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", cls.woo.company_id.id)],
            limit=1,
        )
        for backend in cls.backends.values():
            backend.storefront_payment_journal_id = cls.bank

    def setUp(self):
        super().setUp()
        self.server.script, self.server.woo_orders = [], []
        self.server.woo_refunds.clear()
        self.server.requests.clear()

    def refund_calls(self):
        return [
            r for r in self.server.requests if r[1].split("?")[0].endswith("/refunds")
        ]

    def credit_notes(self, order):
        """Credit notes of the order's invoices (a goodwill or shipping one
        has no order line to show it on the order)."""
        return self.env["account.move"].search(
            [("move_type", "=", "out_refund"), ("invoice_origin", "=", order.name)]
        )

    def inbox(self, order):
        return self.env["retail.sync.exception"].search(
            [("res_model", "=", "sale.order"), ("res_id", "=", order.id)]
        )

    def deliver(self, order):
        delivery = order.picking_ids
        for move in delivery.move_ids:
            move.quantity = move.product_uom_qty
        delivery.move_ids.picked = True
        delivery.button_validate()
        return delivery

    def woo_paid_order(self, invoice=True):
        self.woo.storefront_invoice_paid = invoice
        message = self.receive("order.created", payloads.woo_order(), "woocommerce")
        self.assertEqual(message.state, "done", message.error)
        return self.order_of("727", "woocommerce")

    def woo_update(self, *refunds, minute=10, **values):
        self.server.woo_refunds[727] = list(refunds)
        return payloads.woo_order(
            date_modified_gmt=f"2025-03-02T10:{minute:02d}:00",
            refunds=listed(*refunds),
            **values,
        )


@tagged("retail", "-at_install", "post_install")
class TestWooCommerceRefunds(RefundMixin, StorefrontCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_refunds()

    def test_refund_after_delivery_returns_credits_and_survives_lost_answers(self):
        order = self.woo_paid_order()
        invoice = order.invoice_ids
        delivery = self.deliver(order)
        refund = woo_refund(801, "20.00", [(CAP, 1, "10.00")], shipping="10.00")
        payload = self.woo_update(refund, status="completed")
        message = self.receive("order.updated", payload, "woocommerce", process=False)
        # the refunds' answer is lost twice (an outage, then a 500 after the
        # work): the message waits and nothing is recorded
        for failure in (503, "lost"):
            self.server.script = [failure]
            with self.assertRaises(RetryableJobError):
                message._process()
            self.assertFalse(order.retail_refunds)
            self.assertFalse(self.credit_notes(order))
        message._process()
        self.assertEqual(message.state, "done", message.error)
        self.assertIn("Refund 801", message.result)
        # the same webhook again, and the pull of the same order: nothing more
        calls = len(self.refund_calls())
        self.assertEqual(
            self.receive("order.updated", payload, "woocommerce").state, "done"
        )
        self.server.woo_orders = [payload]
        self.woo.storefront_pull_orders = True
        self.assertIn("1 order(s) imported", self.woo._pull_orders())
        self.assertEqual(len(self.refund_calls()), calls, "no second read")
        self.assertEqual(order.retail_refunds, {"801": "20.00"})
        self.assertEqual(order.retail_payment_state, "partially_refunded")
        returns = order.picking_ids - delivery
        self.assertEqual(len(returns), 1)
        self.assertEqual(returns.picking_type_code, "incoming")
        self.assertEqual(
            [(m.product_id, m.product_uom_qty) for m in returns.move_ids],
            [(self.product_2, 1.0)],
        )
        credit = self.credit_notes(order)
        self.assertEqual(len(credit), 1)
        self.assertRecordValues(
            credit,
            [{"state": "posted", "reversed_entry_id": invoice.id, "amount_total": 20}],
        )
        self.assertIn(credit.payment_state, ("paid", "in_payment"), "paid back")
        self.assertFalse(self.inbox(order), "nothing left for a person to do")
        # a second refund later: recorded on its own
        goodwill = woo_refund(802, "4.50", reason="Late delivery")
        payload = self.woo_update(refund, goodwill, minute=20, status="completed")
        message = self.receive("order.updated", payload, "woocommerce")
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(len(self.credit_notes(order)), 2)
        self.assertEqual(order.retail_refunds, {"801": "20.00", "802": "4.50"})

    def test_full_refund_before_shipping_ships_nothing(self):
        order = self.woo_paid_order(invoice=False)
        refund = woo_refund(
            803, "47.00", [(MUG, 2, "27.00"), (CAP, 1, "10.00")], shipping="10.00"
        )
        payload = self.woo_update(refund, status="refunded")
        message = self.receive("order.updated", payload, "woocommerce")
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(order.retail_payment_state, "refunded")
        goods = order.order_line.filtered(lambda line: line.product_id.is_storable)
        self.assertEqual(goods.mapped("product_uom_qty"), [0.0, 0.0])
        self.assertFalse(
            order.picking_ids.move_ids.filtered(lambda m: m.state != "cancel"),
            "nothing left to ship",
        )
        self.assertFalse(self.credit_notes(order), "nothing was invoiced")
        self.assertFalse(self.inbox(order))

    def test_hostile_refunds_fail_cleanly_and_record_nothing(self):
        order = self.woo_paid_order()
        positive = woo_refund(804, "10.00", [(CAP, 1, "10.00")])
        positive["line_items"][0]["quantity"] = 1
        unsold = woo_refund(805, "10.00", [(dict(CAP, sku="NOPE-1"), 1, "10.00")])
        for refunds, listed_ids, script, cause in (
            ([positive], None, [], "quantity of a refund may not be positive"),
            ([unsold], None, [], "No product has the SKU NOPE-1"),
            ([], [{"id": 806, "total": "-1.00"}], [], "which the channel does not"),
            ([], ["806"], [], "refunds[0] must be an object"),
            ([positive], None, [401], "refused to list the refunds"),
        ):
            payload = self.woo_update(*refunds)
            if listed_ids is not None:
                payload["refunds"] = listed_ids
            self.server.script = script
            message = self.receive("order.updated", payload, "woocommerce")
            self.assertEqual(message.state, "failed", cause)
            self.assertIn(cause, message.error)
            self.assertFalse(order.retail_refunds)
            self.assertFalse(self.credit_notes(order))


@tagged("retail", "-at_install", "post_install")
class TestGoodwillRefunds(RefundMixin, StorefrontCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_refunds()
        cls.goodwill = cls.env.ref(
            "retail_integration_storefront.product_storefront_goodwill"
        )

    def assert_goodwill(self, order, amount, name):
        credit = self.credit_notes(order)
        self.assertEqual(len(credit), 1)
        self.assertEqual(credit.state, "posted")
        self.assertEqual(credit.reversed_entry_id, order.invoice_ids - credit)
        self.assertEqual(credit.partner_id, order.partner_invoice_id)
        self.assertRecordValues(
            credit.invoice_line_ids,
            [
                {
                    "product_id": self.goodwill.id,
                    "name": name,
                    "price_total": amount,
                    "tax_ids": [],
                }
            ],
        )
        self.assertIn(credit.payment_state, ("paid", "in_payment"))
        self.assertFalse(self.inbox(order))

    def test_woocommerce_goodwill_once(self):
        self.assertEqual(self.woo.storefront_goodwill_product_id, self.goodwill)
        order = self.woo_paid_order()
        payload = self.woo_update(woo_refund(807, "7.25", reason="Sorry!"))
        for _attempt in range(2):
            message = self.receive("order.updated", payload, "woocommerce")
            self.assertEqual(message.state, "done", message.error)
        self.assert_goodwill(order, 7.25, "Sorry!")
        self.assertEqual(order.retail_payment_state, "partially_refunded")

    def test_shopify_goodwill_once_on_the_configured_product(self):
        backend = self.backends["shopify"]
        backend.storefront_invoice_paid = True
        product = self.env["product.product"].create(
            {"name": "Goodwill gesture", "type": "service", "taxes_id": False}
        )
        backend.storefront_goodwill_product_id = product
        self.goodwill = product
        paid = payloads.shopify_order(financial_status="paid")
        self.assertEqual(self.receive("orders/create", paid, "shopify").state, "done")
        order = self.order_of("820982911946154508", "shopify")
        refund = dict(payloads.SHOPIFY_REFUND, refund_line_items=[], note="")
        refund["transactions"] = [dict(refund["transactions"][0], amount="3.00")]
        for _attempt in range(2):
            message = self.receive("refunds/create", refund, "shopify")
            self.assertEqual(message.state, "done", message.error)
        self.assert_goodwill(order, 3.0, "Goodwill refund")
