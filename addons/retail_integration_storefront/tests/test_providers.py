from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError

from . import payloads
from .common import StorefrontCase


@tagged("retail", "-at_install", "post_install")
class TestShopify(StorefrontCase):
    def test_order_lifecycle(self):
        message = self.receive(
            "orders/create",
            payloads.shopify_order(financial_status="pending"),
            "shopify",
        )
        self.assertEqual(message.state, "done", message.error)
        order = self.order_of("820982911946154508", "shopify")
        self.assertRecordValues(
            order,
            [{"state": "draft", "retail_order_name": "#9999", "amount_total": 62.0}],
        )
        self.assertEqual(order.partner_id.email, "jon@example.com")
        self.assertEqual(order.partner_shipping_id.name, "Steve Shipper")
        self.assertEqual(order.partner_shipping_id.state_id.code, "KY")
        paid = payloads.shopify_order(updated_at="2025-03-01T10:01:00-05:00")
        self.receive("orders/paid", paid, "shopify")
        self.assertEqual((order.state, order.retail_payment_state), ("sale", "paid"))
        # the refund of a confirmed, undelivered order is recorded once
        for _attempt in range(2):
            message = self.receive("refunds/create", payloads.SHOPIFY_REFUND, "shopify")
            self.assertEqual(message.state, "done", message.error)
        self.assertEqual(order.retail_payment_state, "partially_refunded")
        self.assertEqual(order.retail_refunds, {"509562969": "10.00"})
        self.assertIn("already recorded", message.result)
        # its goods, not shipped, are no longer to be shipped
        cap = order.order_line.filtered(lambda line: line.product_id == self.product_2)
        self.assertEqual(cap.product_uom_qty, 0)
        self.assertNotIn(
            self.product_2,
            order.picking_ids.move_ids.filtered(
                lambda m: m.state != "cancel"
            ).product_id,
        )
        cancelled = payloads.shopify_order(
            updated_at="2025-03-01T10:02:00-05:00",
            cancelled_at="2025-03-01T10:02:00-05:00",
        )
        self.receive("orders/cancelled", cancelled, "shopify")
        self.assertEqual(order.state, "cancel")

    def test_paid_order_invoiced_and_paid_in_its_gateways_journal(self):
        self.paid_and_invoiced()

    def paid_and_invoiced(self):
        """A paid Shopify order, invoiced and paid in its gateway's journal;
        (order, invoice, journal)."""
        backend = self.backends["shopify"]
        bank = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", backend.company_id.id)],
            limit=1,
        )
        backend.storefront_invoice_paid = True
        # a gateway with no journal, and no default: the inbox says what to set
        paid = payloads.shopify_order(
            financial_status="paid", payment_gateway_names=["Shopify_Payments"]
        )
        message = self.receive("orders/create", paid, "shopify")
        self.assertEqual(message.state, "failed")
        self.assertIn(
            "No journal for the payments of gateway Shopify_Payments", message.error
        )
        self.env["retail.storefront.gateway"].create(
            {
                "backend_id": backend.id,
                "gateway": "shopify_payments ",
                "journal_id": bank.id,
            }
        )
        for _attempt in range(2):  # and a repeated delivery of the same webhook
            message = self.receive("orders/create", paid, "shopify")
            self.assertEqual(message.state, "done", message.error)
        order = self.order_of("820982911946154508", "shopify")
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        payment = invoice.matched_payment_ids or self.env["account.payment"].search(
            [("partner_id", "=", order.partner_invoice_id.commercial_partner_id.id)]
        )
        self.assertEqual(payment.journal_id, bank)
        self.assertEqual(payment.amount, order.amount_total)
        return order, invoice, bank

    def test_refund_after_delivery_returns_the_goods_and_credits_once(self):
        order, invoice, _bank = self.paid_and_invoiced()
        delivery = order.picking_ids
        for move in delivery.move_ids:
            move.quantity = move.product_uom_qty
        delivery.move_ids.picked = True
        delivery.button_validate()
        refund = dict(
            payloads.SHOPIFY_REFUND,
            id=509562970,
            order_adjustments=[
                {"kind": "shipping_refund", "amount": "-17.00", "tax_amount": "0.00"}
            ],
        )
        (item,) = refund["refund_line_items"]
        refund["refund_line_items"] = [dict(item, restock_type="return")]
        refund["transactions"] = [dict(refund["transactions"][0], amount="27.00")]
        for _attempt in range(2):  # a retried delivery of the same refund
            message = self.receive("refunds/create", refund, "shopify")
            self.assertEqual(message.state, "done", message.error)
        returns = order.picking_ids - delivery
        self.assertEqual(len(returns), 1)
        self.assertEqual(returns.picking_type_code, "incoming")
        self.assertEqual(
            [(m.product_id, m.product_uom_qty) for m in returns.move_ids],
            [(self.product_2, 1.0)],
        )
        credit = order.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(len(credit), 1)
        self.assertEqual(credit.state, "posted")
        self.assertEqual(credit.reversed_entry_id, invoice)
        self.assertEqual(credit.amount_untaxed, 27.0)
        self.assertIn(credit.payment_state, ("paid", "in_payment"), "paid back")
        self.assertEqual(order.retail_payment_state, "partially_refunded")
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("res_id", "=", order.id), ("res_model", "=", "sale.order")]
            ),
            "nothing left for a person to do",
        )

    def test_refund_before_its_order_waits(self):
        message = self.receive(
            "refunds/create", payloads.SHOPIFY_REFUND, "shopify", process=False
        )
        with self.assertRaisesRegex(RetryableJobError, "not imported yet"):
            message._process()

    def test_a_refund_before_its_order_does_not_hold_the_order_back(self):
        """The channel sends an order's webhook again later (its first
        delivery failed) after the order's refund: the drain imports the
        order and the refund waits for it, instead of the order waiting
        behind a refund that cannot be processed without it."""
        Message = self.env["retail.inbound.message"]
        backend = self.backends["shopify"]
        order_payload = payloads.shopify_order()
        refund = self.receive(
            "refunds/create", payloads.SHOPIFY_REFUND, "shopify", process=False
        )
        order = self.receive("orders/create", order_payload, "shopify", process=False)
        for message, payload in (
            (refund, payloads.SHOPIFY_REFUND),
            (order, order_payload),
        ):
            message.aggregate_key = Message._aggregate_key(message.topic, payload)
        backend._as_technical_user(Message)._drain_batch(backend, 100)
        self.assertEqual(order.state, "done", order.error)
        self.assertEqual(refund.state, "queued")
        self.assertTrue(refund.next_attempt_at)
        self.assertIn("not imported yet", refund.attempt_log)
        refund.next_attempt_at = False
        backend._as_technical_user(Message)._drain_batch(backend, 100)
        self.assertEqual(refund.state, "done", refund.error)

    def test_unknown_variant_names_the_sku(self):
        payload = payloads.shopify_order()
        payload["line_items"][1]["sku"] = "PINK-404"
        message = self.receive("orders/create", payload, "shopify")
        self.assertIn(
            "No product has the SKU PINK-404 (channel product 808950811", message.error
        )
        self.assertRecordValues(
            message.exception_id,
            [{"storefront_sku": "PINK-404", "storefront_product_ref": "808950811"}],
        )
        wizard = self.env["retail.storefront.map.product"].create(
            {"exception_id": message.exception_id.id, "product_id": self.product_2.id}
        )
        wizard.action_map_and_retry()
        message._process()
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(
            self.env["retail.external.ref"]._external_id(
                self.backends["shopify"], self.product_2
            ),
            "808950811",
        )


@tagged("retail", "-at_install", "post_install")
class TestWooCommerce(StorefrontCase):
    def test_order_created_updated_deleted(self):
        message = self.receive(
            "order.created",
            payloads.woo_order(status="pending", date_paid_gmt=None),
            "woocommerce",
        )
        self.assertEqual(message.state, "done", message.error)
        order = self.order_of("727", "woocommerce")
        self.assertRecordValues(
            order,
            [{"state": "draft", "amount_total": 47.0, "retail_order_name": "727"}],
        )
        self.assertEqual(order.order_line.filtered("is_delivery").name, "Flat Rate")
        self.assertIn("Discount spring", order.order_line.mapped("name"))
        self.receive(
            "order.updated",
            payloads.woo_order(date_modified_gmt="2025-03-01T15:10:00"),
            "woocommerce",
        )
        self.assertEqual((order.state, order.retail_payment_state), ("sale", "paid"))
        message = self.receive("order.deleted", {"id": 727}, "woocommerce")
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(order.state, "cancel")
        message = self.receive("order.deleted", {"id": 999}, "woocommerce")
        self.assertIn("never imported", message.result)
        message = self.receive("order.deleted", {"oops": 1}, "woocommerce")
        self.assertIn("names no order id", message.error)

    def test_a_stripe_payment_pays_the_order_it_names(self):
        backend = self.backends["woocommerce"]
        bank = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", backend.company_id.id)],
            limit=1,
        )
        backend.write(
            {"storefront_invoice_paid": True, "storefront_payment_journal_id": bank.id}
        )
        event = payloads.stripe_event(
            "payment_intent.succeeded", order_id="727", amount=4700
        )
        message = self.receive(
            "payment_intent.succeeded", event, "woocommerce", process=False
        )
        with self.assertRaisesRegex(RetryableJobError, "not imported yet"):
            message._process()
        unpaid = payloads.woo_order(status="on-hold", date_paid_gmt=None)
        self.receive("order.created", unpaid, "woocommerce")
        order = self.order_of("727", "woocommerce")
        self.assertEqual(order.state, "draft")
        for _attempt in range(2):
            message = self.receive("payment_intent.succeeded", event, "woocommerce")
            self.assertEqual(message.state, "done", message.error)
        self.assertIn("already recorded", message.result)
        self.assertEqual(message.res_id, order.id)
        self.assertEqual(
            (order.state, order.retail_payment_state, order.retail_payment_gateway),
            ("sale", "paid", "stripe"),
        )
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        # a payment naming no order, or unreadable: said in plain words
        no_order = payloads.stripe_event("charge.succeeded", order_id=None)
        message = self.receive("charge.succeeded", no_order, "woocommerce")
        self.assertIn("names no channel order", message.result)
        for hostile, cause in (
            ({"data": []}, "data must be an object"),
            (payloads.stripe_event("charge.succeeded", amount="12.5"), "whole number"),
            (payloads.stripe_event("charge.succeeded", amount="x"), "not a number"),
            (payloads.stripe_event("charge.succeeded", currency="EUR"), "is in EUR"),
        ):
            message = self.receive("charge.succeeded", hostile, "woocommerce")
            self.assertEqual(message.state, "failed")
            self.assertIn(cause, message.error)

    def test_guest_with_tax_included_prices(self):
        self.product_2.taxes_id = self.tax_excl
        payload = payloads.woo_order(
            customer_id=0,
            prices_include_tax=True,
            coupon_lines=[],
            shipping_lines=[],
            total="11.00",
        )
        payload["line_items"] = [
            dict(
                payload["line_items"][1],
                subtotal="10.00",
                subtotal_tax="1.00",
                total="10.00",
                total_tax="1.00",
            )
        ]
        message = self.receive("order.created", payload, "woocommerce")
        self.assertEqual(message.state, "done", message.error)
        order = self.order_of("727", "woocommerce")
        self.assertEqual(order.order_line.tax_id, self.tax_incl)
        self.assertEqual(order.order_line.price_unit, 11.0)
        self.assertEqual(order.amount_total, 11.0)
        self.assertEqual(order.partner_id.email, "john.doe@example.com")
