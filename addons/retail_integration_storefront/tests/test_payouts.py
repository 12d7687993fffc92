from odoo.tests import HttpCase, tagged

from odoo.addons.retail_integration_outbox.tests.common import allow_private_urls

from . import payloads
from .channel_server import STRIPE_KEY, ChannelServer
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
