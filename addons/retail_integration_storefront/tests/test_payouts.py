from odoo.tests import HttpCase, tagged

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.retail_integration_outbox.tests.common import allow_private_urls

from . import payloads
from .channel_server import SHOPIFY_TOKEN, STRIPE_KEY, ChannelServer
from .common import StorefrontCase, StorefrontMixin


def balance(txn_id, kind, amount, fee, order_id=None, net=None):
    """A Stripe balance transaction (cents), its source expanded as
    ``expand[]=data.source`` gives it."""
    source = {"id": f"src_{txn_id}", "object": kind, "metadata": {}}
    if order_id:
        source["metadata"]["order_id"] = order_id
    return {
        "id": txn_id,
        "object": "balance_transaction",
        "amount": amount,
        "currency": "usd",
        "fee": fee,
        "net": amount - fee if net is None else net,
        "type": kind,
        "description": f"{kind} {order_id or ''}".strip(),
        "source": source,
    }


def payout_event(payout_id, amount):
    return {
        "id": f"evt_{payout_id}",
        "object": "event",
        "type": "payout.paid",
        "data": {
            "object": {
                "id": payout_id,
                "object": "payout",
                "amount": amount,
                "currency": "usd",
                "arrival_date": 1741046400,  # 2025-03-04
                "status": "paid",
            }
        },
    }


class PayoutMixin:
    """A WooCommerce backend whose orders are paid through Stripe, and a
    stand-in of Stripe's API listing payouts' balance transactions."""

    @classmethod
    def _setup_payouts(cls):
        cls.startClassPatcher(allow_private_urls())
        cls.server = cls.enterClassContext(ChannelServer())
        cls.woo = cls.backends["woocommerce"]
        Journal = cls.env["account.journal"]
        company = cls.woo.company_id
        cls.stripe_journal = Journal.create(
            {"name": "Stripe", "code": "STRP", "type": "bank", "company_id": company.id}
        )
        cls.bank = Journal.create(
            {
                "name": "Payout Bank",
                "code": "PBNK",
                "type": "bank",
                "company_id": company.id,
            }
        )
        cls.fees = cls.env["account.account"].create(
            {"name": "Payment fees", "code": "626100", "account_type": "expense"}
        )
        cls.woo.write(
            {
                "storefront_invoice_paid": True,
                "storefront_payment_journal_id": cls.stripe_journal.id,
                "storefront_stripe_key": STRIPE_KEY,
                "storefront_stripe_api_url": cls.server.url,
                "storefront_payout_journal_id": cls.bank.id,
                "storefront_fee_account_id": cls.fees.id,
            }
        )
        cls.env["retail.storefront.gateway"].create(
            {
                "backend_id": cls.woo.id,
                "gateway": "stripe",
                "journal_id": cls.stripe_journal.id,
            }
        )

    def _paid_orders(self):
        self.server.stripe_balance.clear()
        self.orders = []
        for number in (727, 728):
            data = payloads.woo_order(
                id=number, number=str(number), payment_method="stripe"
            )
            message = self.receive("order.created", data, "woocommerce")
            self.assertEqual(message.state, "done", message.error)
            self.orders.append(self.order_of(str(number), "woocommerce"))

    def payout(self, payout_id, transactions):
        self.server.stripe_balance[payout_id] = [
            *transactions,
            balance(f"txn_{payout_id}", "payout", -1, 0),
        ]
        net = sum(t["net"] for t in transactions)
        message = self.receive(
            "payout.paid", payout_event(payout_id, net), "woocommerce"
        )
        payout = self.env["retail.storefront.payout"].search([("name", "=", payout_id)])
        return message, payout


@tagged("retail", "-at_install", "post_install")
class TestPayouts(PayoutMixin, StorefrontCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_payouts()

    def setUp(self):
        super().setUp()
        self._paid_orders()

    def test_a_payout_that_matches_is_posted_and_settles_the_payments(self):
        for order in self.orders:
            self.assertIn(order.invoice_ids.payment_state, ("in_payment", "paid"))
        message, payout = self.payout(
            "po_1",
            [
                balance("txn_1", "charge", 4700, 166, "727"),
                balance("txn_2", "charge", 4700, 166, "728"),
                balance("txn_3", "refund", -1000, 0, "727"),
            ],
        )
        self.assertEqual(message.state, "done", message.error)
        self.assertIn("Posted as", message.result)
        self.assertEqual(payout.state, "posted")
        self.assertEqual(payout.amount, 84.0 - 3.32)
        self.assertEqual(payout.line_ids.sale_id, self.orders[0] | self.orders[1])
        move = payout.move_id
        self.assertEqual(move.state, "posted")
        fees = move.line_ids.filtered(lambda line: line.account_id == self.fees)
        self.assertAlmostEqual(fees.balance, 3.32)
        self.assertAlmostEqual(move.line_ids[0].balance, payout.amount, msg="bank")
        settled = move.line_ids.filtered("partner_id")
        self.assertAlmostEqual(
            sum(settled.mapped("balance")), -84.0, msg="charges less the refund"
        )
        for order in self.orders:  # the money the payout brought settles them
            self.assertEqual(order.invoice_ids.payment_state, "paid")
        # the same payout again: recorded once
        message, _payout = self.payout("po_1", [])
        self.assertIn("already recorded", message.result)

    def test_a_payout_that_does_not_match_stays_open_and_says_why(self):
        message, payout = self.payout(
            "po_2",
            [
                balance("txn_4", "charge", 4700, 166, "727"),
                balance("txn_5", "charge", 4700, 166, "9999"),
                balance("txn_6", "charge", 4700, 166, "728", net=4000),
            ],
        )
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(payout.state, "difference")
        self.assertFalse(payout.move_id)
        problems = dict(
            zip(
                payout.line_ids.mapped("external_id"),
                payout.line_ids.mapped("problem"),
                strict=True,
            )
        )
        self.assertFalse(problems["txn_4"])
        self.assertIn("No order 9999", problems["txn_5"])
        self.assertIn("Fee mismatch", problems["txn_6"])
        exception = self.env["retail.sync.exception"].search(
            [("res_model", "=", payout._name), ("res_id", "=", payout.id)]
        )
        self.assertIn("txn_5: No order 9999", exception.cause)
        self.assertIn("txn_6: Fee mismatch", exception.cause)

    def test_unreadable_payouts_and_refused_keys_fail_in_plain_words(self):
        message = self.receive("payout.paid", {"data": {"object": []}}, "woocommerce")
        self.assertIn("The payout cannot be read", message.error)
        self.woo.storefront_stripe_key = "rk_wrong"
        message, payout = self.payout(
            "po_3", [balance("txn_7", "charge", 4700, 166, "727")]
        )
        self.assertEqual(message.state, "failed")
        self.assertIn("Stripe refused to list the payout's transactions", message.error)
        self.assertIn("HTTP 401", message.error)
        self.assertFalse(payout)


@tagged("retail", "-at_install", "post_install")
class TestPayoutUi(PayoutMixin, StorefrontMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_storefront()
        cls._setup_payouts()

    def test_an_operator_resolves_a_payout_line(self):
        self._paid_orders()
        self.orders[1].name = "TOUR-728"
        _message, payout = self.payout(
            "po_tour",
            [
                balance("txn_8", "charge", 4700, 166, "727"),
                balance("txn_9", "charge", 4700, 166, "9999"),
            ],
        )
        self.assertEqual(payout.state, "difference")
        self.start_tour(
            "/odoo/action-retail_integration_storefront.retail_storefront_payout_action",
            "retail_integration_storefront_payout_tour",
            login="admin",
        )
        self.assertEqual(payout.state, "posted")
        self.assertEqual(payout.line_ids.sale_id, self.orders[0] | self.orders[1])
        self.assertEqual(self.orders[1].invoice_ids.payment_state, "paid")


def shopify_txn(txn_id, kind, amount, fee="0.00", order_id=None, net=None):
    """A ShopifyPaymentsBalanceTransaction node as the payouts query reads it."""
    net = f"{float(amount) - float(fee):.2f}" if net is None else net
    return {
        "id": f"gid://shopify/ShopifyPaymentsBalanceTransaction/{txn_id}",
        "type": kind,
        "test": False,
        "transactionDate": "2025-03-03T12:00:00Z",
        "sourceOrderTransactionId": 9000 + txn_id if order_id else None,
        "amount": {"amount": amount, "currencyCode": "USD"},
        "fee": {"amount": fee, "currencyCode": "USD"},
        "net": {"amount": net, "currencyCode": "USD"},
        "associatedOrder": {"id": f"gid://shopify/Order/{order_id}", "name": "#9999"}
        if order_id
        else None,
        "associatedPayout": {
            "id": "gid://shopify/ShopifyPaymentsPayout/1",
            "status": "PAID",
        },
    }


@tagged("retail", "-at_install", "post_install")
class TestShopifyPayouts(StorefrontCase):
    """Shopify Payments payouts fetched through the GraphQL stand-in, matched
    and posted by the same code as Stripe's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(allow_private_urls())
        cls.server = cls.enterClassContext(ChannelServer())
        cls.shop = cls.backends["shopify"]
        Journal = cls.env["account.journal"]
        cls.journal = Journal.create(
            {"name": "Shopify Payments", "code": "SHPY", "type": "bank"}
        )
        cls.bank = Journal.create(
            {"name": "Payout Bank", "code": "PBK2", "type": "bank"}
        )
        cls.fees = cls.env["account.account"].create(
            {"name": "Shopify fees", "code": "626200", "account_type": "expense"}
        )
        cls.shop.write(
            {
                "storefront_shop_url": cls.server.url,
                "api_secret": SHOPIFY_TOKEN,
                "storefront_invoice_paid": True,
                "storefront_payment_journal_id": cls.journal.id,
                "storefront_payout_journal_id": cls.bank.id,
                "storefront_fee_account_id": cls.fees.id,
                "storefront_fetch_payouts": True,
            }
        )

    def setUp(self):
        super().setUp()
        self.server.shopify_payouts, self.server.script = [], []
        self.server.shopify_balance.clear()
        self.server.shopify_payments = True
        self.server.requests.clear()
        self.orders = []
        for number in (508, 509):
            order_id = f"820982911946154{number}"
            paid = payloads.shopify_order(
                id=int(order_id), name=f"#{number}", financial_status="paid"
            )
            message = self.receive("orders/create", paid, "shopify")
            self.assertEqual(message.state, "done", message.error)
            self.orders.append(self.order_of(order_id, "shopify"))

    def publish(self, payout_id, transactions, status="PAID", issued="2025-03-04"):
        """A payout on the stand-in, its nets summed, with its own PAYOUT line."""
        net = sum(float(t["net"]["amount"]) for t in transactions)
        self.server.shopify_payouts.append(
            {
                "id": f"gid://shopify/ShopifyPaymentsPayout/{payout_id}",
                "legacyResourceId": str(payout_id),
                "issuedAt": f"{issued}T00:00:00Z",
                "status": status,
                "transactionType": "DEPOSIT",
                "net": {"amount": f"{net:.2f}", "currencyCode": "USD"},
            }
        )
        self.server.shopify_balance[str(payout_id)] = [
            *transactions,
            shopify_txn(payout_id * 10, "PAYOUT", f"{-net:.2f}"),
        ]

    def payout(self, payout_id):
        return self.env["retail.storefront.payout"].search(
            [("backend_id", "=", self.shop.id), ("name", "=", str(payout_id))]
        )

    def test_fetched_payout_is_posted_once(self):
        first, second = "820982911946154508", "820982911946154509"
        self.publish(
            7001,
            [
                shopify_txn(1, "CHARGE", "62.00", "2.10", first),
                shopify_txn(2, "CHARGE", "62.00", "2.10", second),
                shopify_txn(3, "REFUND", "-10.00", "0.00", first),
                shopify_txn(4, "ADJUSTMENT", "-1.00"),
            ],
        )
        self.publish(
            7002, [shopify_txn(5, "CHARGE", "62.00", "2.10", first)], "IN_TRANSIT"
        )
        self.assertEqual(self.env["retail.backend"]._cron_fetch_payouts(), self.shop)
        as_job = self.shop._as_technical_user(self.shop)  # as its job runs
        for _attempt in range(2):  # the job again (a retry): nothing twice
            result = as_job._storefront_fetch_payouts()
        self.assertIn("No new payout", result)
        self.assertEqual(len(self.server.graphql_calls("balanceTransactions(")), 1)
        payout = self.payout(7001)
        self.assertFalse(self.payout(7002), "not paid yet")
        self.assertEqual(payout.state, "posted", payout.message_ids.mapped("body"))
        self.assertAlmostEqual(payout.amount, 108.8)
        self.assertEqual(
            sorted(payout.line_ids.mapped("kind")),
            ["adjustment", "charge", "charge", "refund"],
        )
        self.assertEqual(payout.line_ids.sale_id, self.orders[0] | self.orders[1])
        fees = payout.move_id.line_ids.filtered(lambda ml: ml.account_id == self.fees)
        self.assertAlmostEqual(sum(fees.mapped("balance")), 4.2 + 1.0)
        for order in self.orders:
            self.assertEqual(order.invoice_ids.payment_state, "paid")
        settled = payout.move_id.line_ids.filtered("partner_id")
        self.assertEqual(len(settled), 3, "two charges and a refund")
        self.assertTrue(all(settled.mapped("reconciled")), "each with its order")
        self.assertEqual(str(self.shop.storefront_payouts_fetched_until), "2025-03-04")
        # the next fetch asks for the payouts issued from two weeks before
        query = self.server.graphql_calls("payouts(")[-1]["variables"]["query"]
        self.assertEqual(query, "status:paid issued_at:>=2025-02-18")

    def test_a_mismatched_fee_keeps_the_payout_open(self):
        first = "820982911946154508"
        self.publish(
            7003, [shopify_txn(6, "CHARGE", "62.00", "1.00", first, net="59.90")]
        )
        self.shop._storefront_fetch_payouts()
        payout = self.payout(7003)
        self.assertEqual(payout.state, "difference")
        self.assertIn("Fee mismatch", payout.line_ids.problem)
        item = self.env["retail.sync.exception"].search(
            [("res_model", "=", payout._name), ("res_id", "=", payout.id)]
        )
        self.assertIn("6: Fee mismatch", item.cause)

    def test_hostile_answers_fail_cleanly(self):
        bad = shopify_txn(7, "CHARGE", "lots", "0.00", "820982911946154508", net="1")
        self.publish(7004, [bad])
        first = "820982911946154508"
        self.publish(
            7005,
            [shopify_txn(8, "CHARGE", "62.00", "2.10", first)],
            issued="2025-03-05",
        )
        result = self.shop._storefront_fetch_payouts()
        self.assertIn("Payout 7004 cannot be read", result)
        self.assertIn("is not a number", result)
        self.assertFalse(self.payout(7004))
        self.assertTrue(self.payout(7005), "the others go on")
        # the same bad payout next time: one inbox item
        self.shop._storefront_fetch_payouts()
        items = self.env["retail.sync.exception"].search(
            [("name", "=", "Payout 7004 not recorded")]
        )
        self.assertEqual(len(items), 1)
        # no Shopify Payments account; an outage
        self.server.shopify_payments = False
        result = self.shop._storefront_fetch_payouts()
        self.assertIn("without shopifyPaymentsAccount.payouts", result)
        self.server.script = [503]
        with self.assertRaises(RetryableJobError):
            self.shop._storefront_fetch_payouts()
