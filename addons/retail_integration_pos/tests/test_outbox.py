from odoo.tests import tagged

from odoo.addons.retail_integration_outbox.tests.common import allow_private_urls

from .common import PosCase, ticket


@tagged("retail", "-at_install", "post_install")
class TestStoresOut(PosCase):
    """What the stores need back (their stock levels and prices) goes through
    the outbox to the backend's subscriptions: coalesced, signed, retried."""

    def test_the_stock_a_posted_day_moves_goes_to_the_stores(self):
        self.startPatcher(allow_private_urls())
        types = self.env["retail.outbox.event.type"].search(
            [("code", "in", ("stock.level_changed", "price.changed"))]
        )
        subscription = self.env["retail.event.subscription"].create(
            {
                "name": "Store tills",
                "backend_id": self.backend.id,
                "url": "http://127.0.0.1:9/stores",
                "event_type_ids": [(6, 0, types.ids)],
            }
        )
        self.send_tickets([ticket(1001), ticket(1002)])
        # The day is posted by its job (run here: the outbox's own dispatch
        # jobs must stay queued, not run at once).
        message = self.receive(
            "pos.zreport", self.zreport(2, {"card": "51.00"}), no_delay=False
        )
        zreport = self.env["retail.pos.zreport"].browse(message.res_id)
        self.assertEqual(zreport.state, "balanced")
        zreport._post()
        self.assertEqual(zreport.session_id.state, "closed")
        self.env.cr.flush()  # the outbox writes its events as the transaction commits
        deliveries = self.env["retail.outbox.delivery"].search(
            [("subscription_id", "=", subscription.id)]
        )
        keys = deliveries.mapped("aggregate_key")
        self.assertIn(
            f"product.product,{self.product_1.id}@stock.warehouse,{self.warehouse.id}",
            keys,
        )
        event = deliveries.event_id.filtered(
            lambda e: e.aggregate_id == self.product_1.id
        )[-1:]
        self.assertEqual(event.payload["warehouse"]["id"], self.warehouse.id)

    def test_each_store_gets_the_prices_of_its_pricelist(self):
        # What the class's setup left pending is written first: this test's
        # captures must not join it (every test starts with it pending again).
        self.env.cr.flush()
        self.startPatcher(allow_private_urls())
        Pricelist = self.env["product.pricelist"]
        backend_prices = Pricelist.create({"name": "Stores Prices"})
        lyon_prices = Pricelist.create({"name": "Lyon Prices"})
        elsewhere = Pricelist.create({"name": "Web Prices"})
        self.backend.pricelist_id = backend_prices
        types = self.env["retail.outbox.event.type"].search(
            [("code", "in", ("price.changed", "product.changed"))]
        )
        subscription = self.env["retail.event.subscription"].create(
            {
                "name": "Store tills",
                "backend_id": self.backend.id,
                "url": "http://127.0.0.1:9/stores",
                "event_type_ids": [(6, 0, types.ids)],
            }
        )
        Subscription = self.env["retail.event.subscription"]
        self.assertNotIn(lyon_prices.id, Subscription._wanted_scopes("price.changed"))
        # Lyon gets a pricelist of its own: the routes follow.
        self.store.pricelist_id = lyon_prices
        self.assertIn(lyon_prices.id, Subscription._wanted_scopes("price.changed"))
        self.assertIn(backend_prices.id, Subscription._wanted_scopes("price.changed"))
        Item = self.env["product.pricelist.item"]
        for pricelist, amount in ((lyon_prices, 9.5), (elsewhere, 7.0)):
            Item.create(
                {
                    "pricelist_id": pricelist.id,
                    "applied_on": "0_product_variant",
                    "product_id": self.product_1.id,
                    "compute_price": "fixed",
                    "fixed_price": amount,
                }
            )
        self.product_1.name = "Test Scarf Red"
        self.env.cr.flush()
        deliveries = self.env["retail.outbox.delivery"].search(
            [("subscription_id", "=", subscription.id)]
        )
        prices = deliveries.event_id.filtered(lambda e: e.event_type == "price.changed")
        self.assertEqual(len(prices), 1, "Lyon's price; the web's is not the stores'")
        self.assertEqual(prices.payload["pricelist"]["id"], lyon_prices.id)
        self.assertEqual(prices.payload["price"], 9.5)
        self.assertEqual(
            prices.payload["stores"],
            [{"backend": "test_pos", "code": "LYON", "name": "Lyon"}],
        )
        [product] = deliveries.event_id.filtered(
            lambda e: e.event_type == "product.changed"
        )
        self.assertEqual(product.payload["name"], "Test Scarf Red")
        self.assertEqual(product.payload["sku"], "POS-1")
        # Back to the backend's pricelist: Lyon's own is no longer wanted.
        self.store.pricelist_id = False
        self.assertNotIn(lyon_prices.id, Subscription._wanted_scopes("price.changed"))
