"""A provider registered from this test module, not from the storefront's
code: its webhooks, pull import and stock export run through the registry."""

from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.retail_integration.lib.canonical import Customer, Line, Order
from odoo.addons.retail_integration.lib.parsing import (
    parse_amount,
    parse_list,
    parse_object,
    parse_text,
)

from ..lib.adapter import ADAPTERS, IMPORT, StorefrontAdapter, register_adapter
from ..lib.listing import Listing, listing_key, parse_listing
from .common import StorefrontCase, storefront_subscription

KEY = "test_till"
PREFIX = "till:"


class TillChannel:
    """The test provider's API, in memory."""

    def __init__(self):
        self.orders, self.items, self.pushed = [], [], []


class TillAdapter(StorefrontAdapter):
    """A made-up provider: orders are ``{id, number, currency, total,
    email, lines: [{sku, qty, price}]}``; its API keeps what it is sent."""

    webhook_topics = {"sale.closed": IMPORT}
    has_api = True
    credentials = {"api_key": "till key"}
    listing_prefix = PREFIX
    channel = TillChannel()

    @classmethod
    def map_order(cls, payload):
        data = parse_object(payload, "The order", required=True)
        return Order(
            external_id=parse_text(data.get("id"), "id", required=True),
            name=parse_text(data.get("number"), "number"),
            currency=parse_text(data.get("currency"), "currency", required=True),
            total=parse_amount(data.get("total"), "total"),
            lines=tuple(
                Line(
                    sku=parse_text(line.get("sku"), f"lines[{i}].sku"),
                    quantity=parse_amount(line.get("qty"), f"lines[{i}].qty"),
                    unit_price=parse_amount(line.get("price"), f"lines[{i}].price"),
                )
                for i, line in enumerate(parse_list(data.get("lines"), "lines"))
            ),
            financial_status="paid",
            customer=Customer(email=parse_text(data.get("email"), "email")),
        ).check()

    @classmethod
    def listing_key(cls, product_id, variant_id=None, inventory_item_id=None):
        return f"{PREFIX}{product_id}"

    @classmethod
    def parse_listing_key(cls, key):
        return Listing(cls.key, key.removeprefix(PREFIX), None, None)

    @classmethod
    def make_client(cls, settings):
        return cls.channel

    def orders_since(self, since):
        return list(self.client.orders)

    def channel_items(self, location, skus=None):
        return [i for i in self.client.items if skus is None or i["sku"] in skus]

    def push(self, location, kind, items):
        self.client.pushed.append(
            (kind, [(lst.product_id, value) for lst, value in items])
        )
        return {}


def till_order(currency, number="T-9", total="50.00"):
    return {
        "id": number,
        "number": f"#{number}",
        "currency": currency.name,
        "total": total,
        "email": "till@example.com",
        "lines": [
            {"sku": "SKU-1", "qty": 2, "price": "20.00"},
            {"sku": "SKU-2", "qty": 1, "price": "10.00"},
        ],
    }


@tagged("retail", "-at_install", "post_install")
class TestAdapterRegistry(StorefrontCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        register_adapter(KEY)(TillAdapter)
        cls.addClassCleanup(ADAPTERS.unregister, KEY)
        # What a module adding the provider does with selection_add.
        provider = cls.env["retail.backend"]._fields["provider"]
        cls.startClassPatcher(patch.dict(provider._selection, {KEY: "Test Till"}))
        cls.till = cls.env["retail.backend"].create(
            {
                "name": "Test Till",
                "code": "test_till",
                "provider": KEY,
                "channel_type": "storefront",
                "state": "active",
                "warehouse_id": cls.warehouse.id,
                "pricelist_id": cls.pricelist.id,
                "storefront_shipping_product_id": cls.shipping_product.id,
                "storefront_shop_url": "https://till.example",
                "api_key": "till-secret",
            }
        )
        cls.backends[KEY] = cls.till
        cls.endpoints[KEY] = cls.env["retail.webhook.endpoint"].create(
            {"name": "till hooks", "backend_id": cls.till.id, "scheme": "standard"}
        )

    def setUp(self):
        super().setUp()
        TillAdapter.channel = TillChannel()

    def test_a_webhook_becomes_a_confirmed_sale_order(self):
        message = self.receive("sale.closed", till_order(self.currency), KEY)
        self.assertEqual(message.state, "done", message.error)
        order = self.order_of("T-9", KEY)
        self.assertEqual(message.res_id, order.id)
        self.assertRecordValues(
            order,
            [{"state": "sale", "retail_order_name": "#T-9", "amount_total": 50.0}],
        )
        self.assertEqual(
            order.order_line.mapped("product_id"), self.product_1 | self.product_2
        )
        self.assertEqual(order.partner_id.email, "till@example.com")
        self.receive("sale.closed", till_order(self.currency), KEY)
        self.assertEqual(len(self.till.sale_order_ids), 1, "imported once")

    def test_pull_and_stock_export_go_through_the_adapter(self):
        TillAdapter.channel.orders = [
            till_order(self.currency, "T-10"),
            till_order(self.currency, "T-11", total="1.00"),
        ]
        self.till.storefront_pull_orders = True
        result = self.till._pull_orders()
        self.assertIn("1 order(s) imported or already up to date, 1 failed", result)
        self.assertTrue(self.order_of("T-10", KEY))
        self.assertIn(
            "Odoo computes a total of 50.0",
            self.till.exception_ids.filtered(lambda e: "T-11" in e.name).cause,
        )
        # Published stock: the product found by SKU, bound to the test key.
        TillAdapter.channel.items = [{"sku": "SKU-3", "key": "till:33"}]
        self.till.storefront_export_stock = True
        subscription = storefront_subscription(self.till)
        self.assertTrue(subscription.active)
        self.env["stock.quant"]._update_available_quantity(
            self.product_3, self.warehouse.lot_stock_id, 7
        )
        self.env.cr.flush()
        self.as_connector(subscription)._dispatch()
        self.assertEqual(TillAdapter.channel.pushed, [("stock", [("33", 7)])])
        self.assertEqual(parse_listing("till:33"), (KEY, "33", None, None))
        self.assertEqual(listing_key(KEY, "33"), "till:33")

    def test_the_form_follows_the_adapter(self):
        self.assertTrue(self.till.storefront_has_api)
        self.assertFalse(self.till.storefront_has_locations)
        self.assertEqual(
            self.till.storefront_credentials_help, "Save the till key as API Key."
        )
        self.assertFalse(self.backend.storefront_has_api, "generic: webhooks only")
