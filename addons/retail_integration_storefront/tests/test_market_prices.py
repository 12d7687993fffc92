from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .test_export import ExportCase

EUROPE = "gid://shopify/PriceList/101"
CANADA = "gid://shopify/PriceList/102"


@tagged("retail", "-at_install", "post_install")
class TestMarketPrices(ExportCase):
    """Shopify markets' price lists take the fixed prices of their pricelist
    whenever prices are published."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        euro = cls.env.ref("base.EUR")
        euro.active = True
        Pricelist = cls.env["product.pricelist"]
        cls.euro_prices = Pricelist.create(
            {
                "name": "Europe",
                "currency_id": euro.id,
                "item_ids": [
                    (0, 0, cls.fixed(cls.product_1, 13.9)),
                    (0, 0, cls.fixed(cls.product_2, 6.5)),
                ],
            }
        )
        cls.europe = cls.env["retail.storefront.price.list"].create(
            {
                "backend_id": cls.shopify.id,
                "channel_price_list": EUROPE,
                "pricelist_id": cls.euro_prices.id,
            }
        )

    @classmethod
    def fixed(cls, product, price):
        return {
            "applied_on": "0_product_variant",
            "product_id": product.id,
            "compute_price": "fixed",
            "fixed_price": price,
        }

    def setUp(self):
        super().setUp()
        self.server.shopify_price_lists = {
            EUROPE: {"currency": "EUR", "prices": {}},
            CANADA: {"currency": "CAD", "prices": {}},
        }

    def change_prices(self):
        for product, price in ((self.product_1, 15), (self.product_2, 7.5)):
            self.env["product.pricelist.item"].create(
                dict(self.fixed(product, price), pricelist_id=self.pricelist.id)
            )
        self.env.cr.flush()

    def test_market_price_lists_take_their_pricelists_prices(self):
        self.assertTrue(self.shopify.storefront_has_price_lists)
        self.assertFalse(self.woo.storefront_has_price_lists)
        self.change_prices()
        self.as_connector(self.shopify_sub)._dispatch()
        deliveries = self.deliveries(self.shopify_sub, event_type="price.changed")
        self.assertEqual(set(deliveries.mapped("state")), {"delivered"})
        variants = {v["sku"]: v for v in self.server.shopify_variants}
        self.assertEqual(variants["SKU-1"]["price"], "15.00", "the shop's own price")
        expected = {
            "gid://shopify/ProductVariant/111": {
                "amount": "13.90",
                "currencyCode": "EUR",
            },
            "gid://shopify/ProductVariant/222": {
                "amount": "6.50",
                "currencyCode": "EUR",
            },
        }
        self.assertEqual(self.server.shopify_price_lists[EUROPE]["prices"], expected)
        (call,) = self.server.graphql_calls("priceListFixedPricesAdd")
        self.assertEqual(call["variables"]["priceListId"], EUROPE)
        # the same batch again (a retry after a lost answer): set, not added
        results = self.env["retail.storefront.exporter"]._deliver(
            self.shopify, deliveries
        )
        self.assertEqual({status for _o, status, _t in results.values()}, {200})
        self.assertEqual(len(self.server.graphql_calls("priceListFixedPricesAdd")), 2)
        self.assertEqual(self.server.shopify_price_lists[EUROPE]["prices"], expected)

    def test_a_price_list_in_another_currency_refuses_the_prices(self):
        self.europe.channel_price_list = CANADA
        self.change_prices()
        self.as_connector(self.shopify_sub)._dispatch()
        deliveries = self.deliveries(self.shopify_sub, event_type="price.changed")
        self.assertNotIn("delivered", deliveries.mapped("state"))
        for delivery in deliveries:
            self.assertIn(
                "doesn't match the price list's currency", delivery.last_error
            )
        self.assertFalse(self.server.shopify_price_lists[CANADA]["prices"])
        with self.assertRaises(ValidationError):
            self.europe.channel_price_list = "101"
