from datetime import datetime

import requests

from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.addons.retail_integration.lib import api_errors, api_http

from . import payloads
from .channel_server import SHOPIFY_TOKEN, WOO_KEY, WOO_SECRET, ChannelServer
from .common import StorefrontCase


def money(amount):
    return {"shopMoney": {"amount": amount}}


def shopify_node(order_id, updated_at, currency, sku_2="SKU-2"):
    """An Order node as the GraphQL Admin API returns it for the connector's query."""
    return {
        "legacyResourceId": str(order_id),
        "name": f"#{order_id}",
        "email": "jon@example.com",
        "note": None,
        "updatedAt": updated_at,
        "cancelledAt": None,
        "closedAt": None,
        "displayFinancialStatus": "PAID",
        "taxesIncluded": False,
        "currencyCode": currency,
        "totalPriceSet": money("62.00"),
        "customer": {
            "legacyResourceId": "115310627314723954",
            "email": "jon@example.com",
            "firstName": "Jon",
            "lastName": "Doe",
            "phone": None,
        },
        "billingAddress": {
            "name": "Jon Doe",
            "firstName": "Jon",
            "lastName": "Doe",
            "company": None,
            "address1": "123 Billing Street",
            "address2": None,
            "city": "Billtown",
            "zip": "K2P0B0",
            "provinceCode": "KY",
            "countryCodeV2": "US",
            "phone": None,
        },
        "shippingAddress": None,
        "lineItems": {
            "nodes": [
                {
                    "id": "gid://shopify/LineItem/866550311766439020",
                    "name": "IPod Nano - 8GB",
                    "sku": "SKU-1",
                    "quantity": 2,
                    "variant": {"legacyResourceId": "808950810"},
                    "originalUnitPriceSet": money("20.00"),
                    "discountAllocations": [
                        {
                            "allocatedAmountSet": money("5.00"),
                            "discountApplication": {"code": "TENOFF"},
                        }
                    ],
                },
                {
                    "id": "gid://shopify/LineItem/141249953214522974",
                    "name": "IPod Nano - 8GB - Pink",
                    "sku": sku_2,
                    "quantity": 1,
                    "variant": {"legacyResourceId": "808950811"},
                    "originalUnitPriceSet": money("10.00"),
                    "discountAllocations": [],
                },
            ]
        },
        "shippingLines": {
            "nodes": [
                {
                    "title": "Generic Shipping",
                    "code": "generic",
                    "originalPriceSet": money("17.00"),
                    "discountAllocations": [],
                }
            ]
        },
    }


@tagged("retail", "-at_install", "post_install")
class TestPullImport(StorefrontCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.enterClassContext(ChannelServer())
        cls.shopify = cls.backends["shopify"]
        cls.shopify.write(
            {
                "storefront_shop_url": cls.server.url,
                "storefront_pull_orders": True,
                "api_secret": SHOPIFY_TOKEN,
            }
        )
        cls.woo = cls.backends["woocommerce"]
        cls.woo.write(
            {
                "storefront_shop_url": cls.server.url,
                "storefront_pull_orders": True,
                "api_key": WOO_KEY,
                "api_secret": WOO_SECRET,
            }
        )

    def setUp(self):
        super().setUp()
        self.server.shopify_orders, self.server.woo_orders, self.server.script = (
            [],
            [],
            [],
        )
        self.server.requests.clear()
        self.server.page_size = None

    def test_shopify_pull_pages_retries_outages_and_keeps_one_order_per_channel_order(
        self,
    ):
        webhook = payloads.shopify_order(currency=self.currency.name)
        self.receive("orders/create", webhook, "shopify")
        first = self.order_of("820982911946154508", "shopify")
        self.server.shopify_orders = [
            shopify_node(
                820982911946154508, "2025-03-01T15:00:05Z", self.currency.name
            ),
            shopify_node(1002, "2025-03-02T10:00:00Z", self.currency.name),
            shopify_node(1003, "2025-03-03T10:00:00Z", self.currency.name),
        ]
        self.server.page_size = 2
        self.server.script = [503]
        with self.assertRaises(RetryableJobError):
            self.shopify._pull_orders()
        result = self.shopify._pull_orders()
        self.assertIn("3 order(s) imported", result)
        self.assertEqual(self.order_of("820982911946154508", "shopify"), first)
        self.assertEqual(self.order_of("1003", "shopify").state, "sale")
        self.assertEqual(self.order_of("1002", "shopify").amount_total, 62.0)
        self.assertEqual(
            self.shopify.storefront_pulled_until, datetime(2025, 3, 3, 10, 0)
        )
        # the next run asks only for what changed since, less the overlap
        self.server.requests.clear()
        self.shopify._pull_orders()
        query = self.server.requests[0][2]["variables"]["query"]
        self.assertEqual(query, "updated_at:>'2025-03-03T09:55:00Z'")
        self.assertEqual(
            self.env["sale.order"].search_count(
                [("retail_backend_id", "=", self.shopify.id)]
            ),
            3,
        )

    def test_shopify_throttling(self):
        self.server.shopify_orders = [
            shopify_node(1002, "2025-03-02T10:00:00Z", self.currency.name)
        ]
        self.server.script = ["throttled"]
        with self.assertRaises(RetryableJobError) as caught:
            self.shopify._pull_orders()
        self.assertEqual(caught.exception.seconds, 5, "(502 - 2) / 100 points a second")
        # throttled after some progress: keep it, and continue later
        self.server.shopify_orders.append(
            shopify_node(1003, "2025-03-03T10:00:00Z", self.currency.name)
        )
        self.server.page_size = 1
        self.server.script = [None, "throttled"]
        with trap_jobs() as trap:
            self.shopify._pull_orders()
            trap.assert_jobs_count(1, only=self.shopify._pull_orders)
        self.assertTrue(self.order_of("1002", "shopify"))
        self.assertFalse(self.order_of("1003", "shopify"))
        self.assertEqual(
            self.shopify.storefront_pulled_until, datetime(2025, 3, 2, 10, 0)
        )

    def test_woocommerce_pull_reports_a_bad_order_and_refetches_it(self):
        good = payloads.woo_order(
            id=801,
            number="801",
            currency=self.currency.name,
            date_modified_gmt="2025-03-01T10:00:00",
        )
        bad = payloads.woo_order(
            id=802,
            number="802",
            currency=self.currency.name,
            date_modified_gmt="2025-03-02T10:00:00",
        )
        bad["line_items"][1]["sku"] = "WOO-404"
        later = payloads.woo_order(
            id=803,
            number="803",
            currency=self.currency.name,
            date_modified_gmt="2025-03-03T10:00:00",
        )
        self.server.woo_orders = [good, bad, later]
        self.server.page_size = 2
        self.server.script = [429]
        with self.assertRaises(RetryableJobError) as caught:
            self.woo._pull_orders()
        self.assertEqual(caught.exception.seconds, 3)
        result = self.woo._pull_orders()
        self.assertIn("2 order(s) imported or already up to date, 1 failed", result)
        self.assertTrue(self.order_of("801", "woocommerce"))
        self.assertTrue(self.order_of("803", "woocommerce"))
        self.assertFalse(self.order_of("802", "woocommerce"))
        exception = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.woo.id)]
        )
        self.assertRecordValues(
            exception,
            [{"kind": "mapping", "storefront_sku": "WOO-404", "retryable": True}],
        )
        self.assertEqual(
            self.woo.storefront_pulled_until,
            datetime(2025, 3, 3, 10, 0),
            "a failed order does not hold the watermark back",
        )
        self.assertEqual(self.woo.storefront_pull_retry, ["802"])
        # map the SKU: the inbox's retry pulls again, and the order, older
        # than the watermark, is fetched again on its own
        wizard = self.env["retail.storefront.map.product"].create(
            {"exception_id": exception.id, "product_id": self.product_2.id}
        )
        with trap_jobs() as trap:
            wizard.action_map_and_retry()
            trap.assert_jobs_count(1, only=self.woo._pull_orders)
            trap.perform_enqueued_jobs()
        self.assertTrue(self.order_of("802", "woocommerce"))
        self.assertFalse(self.woo.storefront_pull_retry)
        self.assertIn("/wp-json/wc/v3/orders/802", [r[1] for r in self.server.requests])
        self.assertEqual(self.woo.storefront_pulled_until, datetime(2025, 3, 3, 10, 0))

    def test_shopify_a_failing_pulled_order_between_two_good_ones(self):
        nodes = [
            shopify_node(
                n,
                f"2025-03-0{n - 1000}T10:00:00Z",
                self.currency.name,
                sku_2="SKU-404" if n == 1002 else "SKU-2",
            )
            for n in (1001, 1002, 1003)
        ]
        self.server.shopify_orders = nodes
        result = self.as_connector(self.shopify)._pull_orders()
        self.assertIn("2 order(s) imported or already up to date, 1 failed", result)
        self.assertTrue(self.order_of("1001", "shopify"))
        self.assertTrue(self.order_of("1003", "shopify"))
        self.assertEqual(self.shopify.storefront_pull_retry, ["1002"])
        self.assertEqual(
            self.shopify.storefront_pulled_until, datetime(2025, 3, 3, 10, 0)
        )
        # still failing: fetched again by id at the next pull, still kept aside
        self.server.requests.clear()
        result = self.as_connector(self.shopify)._pull_orders()
        self.assertIn("1 failed", result)
        single = self.server.graphql_calls("query Order(")
        self.assertEqual(
            [c["variables"]["id"] for c in single], ["gid://shopify/Order/1002"]
        )
        # fixed on the channel (its line now sold under a known SKU): imported
        nodes[1]["lineItems"]["nodes"][1]["sku"] = "SKU-2"
        result = self.as_connector(self.shopify)._pull_orders()
        self.assertIn("0 failed", result)
        self.assertTrue(self.order_of("1002", "shopify"))
        self.assertFalse(self.shopify.storefront_pull_retry)
        # an order kept aside that the channel no longer has is let go
        self.shopify.sudo().storefront_pull_retry = ["1999"]
        self.as_connector(self.shopify)._pull_orders()
        self.assertFalse(self.shopify.storefront_pull_retry)

    def test_shopify_pull_imports_tips_and_duties(self):
        node = shopify_node(1002, "2025-03-02T10:00:00Z", self.currency.name)
        node.update(
            totalPriceSet=money("75.00"),
            totalTipReceivedSet=money("5.00"),
            originalTotalDutiesSet=money("8.00"),
            currentTotalDutiesSet=money("8.00"),
        )
        self.server.shopify_orders = [node]
        result = self.shopify._pull_orders()
        self.assertIn("1 order(s) imported", result)
        order = self.order_of("1002", "shopify")
        self.assertEqual(order.amount_total, 75.0)
        fees = order.order_line.filtered(
            lambda line: line.product_id == self.fee_product
        )
        self.assertEqual(
            [(fee.name, fee.price_unit) for fee in fees],
            [("Tip", 5.0), ("Duties", 8.0)],
        )
        query = self.server.requests[0][2]["query"]
        self.assertIn("totalTipReceivedSet", query)
        self.assertIn("originalTotalDutiesSet", query)

    def test_woocommerce_pull_imports_fees_and_skips_deleted_orders(self):
        fees = payloads.woo_order(
            id=801,
            number="801",
            currency=self.currency.name,
            total="49.50",
            fee_lines=[payloads.woo_fee(), payloads.WOO_DISCOUNT_FEE],
        )
        deleted = payloads.woo_order(id=802, number="802", currency=self.currency.name)
        self.receive("order.deleted", {"id": 802}, "woocommerce")
        self.server.woo_orders = [fees, deleted]
        result = self.woo._pull_orders()
        self.assertIn("2 order(s) imported or already up to date, 0 failed", result)
        order = self.order_of("801", "woocommerce")
        self.assertEqual(order.amount_total, 49.5)
        self.assertEqual(
            order.order_line.filtered(
                lambda line: line.product_id == self.fee_product
            ).mapped("price_unit"),
            [5.0, -3.0],
        )
        self.assertFalse(self.order_of("802", "woocommerce"), "only a restore lifts it")

    def test_unstorable_characters_from_the_channel_are_made_safe(self):
        """A NUL or a lone surrogate in a pulled order, or NUL bytes in an
        error answer, cannot go into a column: they are dropped or replaced."""
        node = shopify_node(1004, "2025-03-04T10:00:00Z", self.currency.name)
        node["name"] = "#1004\u0000"
        node["customer"]["firstName"] = "Jo\ud800n"
        self.server.shopify_orders = [node]
        self.assertIn("1 order(s) imported", self.shopify._pull_orders())
        order = self.order_of("1004", "shopify")
        self.assertEqual(order.retail_order_name, "#1004")
        self.assertEqual(order.partner_id.name, "Jo\ufffdn Doe")
        answer = requests.Response()
        answer.status_code, answer._content = 400, b'{"error": "x\x00\xff"}'
        with self.assertRaises(api_errors.ApiError) as refused:
            api_http.read_json(answer)
        self.assertEqual(str(refused.exception), 'HTTP 400: {"error": "x\ufffd"}')

    def test_bad_credentials_go_to_the_inbox(self):
        self.woo.api_secret = "wrong"
        result = self.woo._pull_orders()
        self.assertIn("HTTP 401", result)
        exception = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.woo.id)]
        )
        self.assertEqual(exception.kind, "connection")

    def test_cron_enqueues_one_pull_per_backend(self):
        with trap_jobs() as trap:
            self.env["retail.backend"]._cron_pull_orders()
            trap.assert_jobs_count(2)
            trap.assert_jobs_count(1, only=self.shopify._pull_orders)
            trap.assert_jobs_count(1, only=self.woo._pull_orders)
