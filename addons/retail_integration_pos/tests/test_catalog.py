import json

from odoo.tests import tagged

from odoo.addons.retail_integration_outbox.tests.common import allow_private_urls

from .common import PosCase
from .square_server import TOKEN, SquareServer


@tagged("retail", "-at_install", "post_install")
class TestSquareCatalog(PosCase):
    """New and changed products and the stores' prices to Square's Catalog
    API (delivery mode *Square Catalog API*), through the outbox: one ITEM
    and ITEM_VARIATION per product, a location override per store with a
    pricelist of its own, never a second item after a lost answer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        Pricelist = env["product.pricelist"]
        cls.base_prices = Pricelist.create({"name": "Square Prices"})
        cls.lille_prices = Pricelist.create({"name": "Lille Prices"})
        cls.square = env["retail.backend"].create(
            {
                "name": "Square Stores",
                "code": "test_square_catalog",
                "channel_type": "pos",
                "provider": "square",
                "state": "active",
                "api_secret": TOKEN,
                "pricelist_id": cls.base_prices.id,
                "pos_store_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Paris",
                            "code": "LPARIS",
                            "warehouse_id": cls.warehouse.id,
                        },
                    ),
                    (
                        0,
                        0,
                        {
                            "name": "Lille",
                            "code": "LLILLE",
                            "warehouse_id": cls.warehouse.id,
                            "pricelist_id": cls.lille_prices.id,
                        },
                    ),
                ],
            }
        )
        types = env["retail.outbox.event.type"].search(
            [("code", "in", ("product.changed", "price.changed"))]
        )
        cls.subscription = env["retail.event.subscription"].create(
            {
                "name": "Square catalog",
                "backend_id": cls.square.id,
                "delivery_mode": "square_catalog",
                "event_type_ids": [(6, 0, types.ids)],
                "retry_jitter": 0,
            }
        )

    def setUp(self):
        super().setUp()
        # What the class's setup left pending is written first: this test's
        # captures must not join it (every test starts with it pending again).
        self.env.cr.flush()
        # The stand-in listens on 127.0.0.1: the outbox's sessions refuse
        # private addresses unless the configuration allows them.
        self.startPatcher(allow_private_urls())
        self.server = SquareServer().__enter__()
        self.addCleanup(self.server.__exit__)
        self.square.pos_api_url = self.server.url

    def price(self, pricelist, product, amount):
        return self.env["product.pricelist.item"].create(
            {
                "pricelist_id": pricelist.id,
                "applied_on": "0_product_variant",
                "product_id": product.id,
                "compute_price": "fixed",
                "fixed_price": amount,
            }
        )

    def new_product(self, sku="SQ-NEW", price=12.0):
        product = self.env["product.product"].create(
            {"name": "Linen Shirt", "default_code": sku, "list_price": price}
        )
        self.env.cr.flush()  # the outbox writes its events as the transaction commits
        return product

    def dispatch(self):
        self.env.cr.flush()
        result = self.subscription._dispatch()
        self.env.cr.flush()
        return result

    def make_due(self):
        self.env["retail.outbox.delivery"].search(
            [("subscription_id", "=", self.subscription.id)]
        ).write({"next_attempt": "2000-01-01 00:00:00"})
        self.subscription.write({"hold_until": False, "probe_at": False})

    def deliveries(self, state=None):
        domain = [("subscription_id", "=", self.subscription.id)]
        if state:
            domain.append(("state", "=", state))
        return self.env["retail.outbox.delivery"].search(domain)

    def variation(self, product):
        ref = self.env["retail.external.ref"]._external_id(self.square, product)
        return self.server.catalog_variations()[ref] if ref else (None, None)

    def upserts(self):
        return [
            b for p, b, _h in self.server.requests if p == "/v2/catalog/batch-upsert"
        ]

    def test_a_product_is_created_once_then_updated_with_the_store_prices(self):
        product = self.new_product()
        self.price(self.base_prices, product, 15.0)
        self.price(self.lille_prices, product, 13.5)
        self.dispatch()
        self.assertFalse(self.deliveries().filtered(lambda d: d.state != "delivered"))
        self.assertEqual(len(self.server.items), 1)
        variation, item = self.variation(product)
        self.assertEqual(item["item_data"]["name"], "Linen Shirt")
        self.assertEqual(item["present_at_location_ids"], ["LLILLE", "LPARIS"])
        data = variation["item_variation_data"]
        self.assertEqual(data["sku"], "SQ-NEW")
        self.assertEqual(data["price_money"], {"amount": 1500, "currency": "USD"})
        self.assertEqual(
            data["location_overrides"],
            [
                {
                    "location_id": "LLILLE",
                    "pricing_type": "FIXED_PRICING",
                    "price_money": {"amount": 1350, "currency": "USD"},
                }
            ],
        )
        [upsert] = self.upserts()
        self.assertTrue(upsert["idempotency_key"].startswith(f"odoo-{self.square.id}-"))
        # Lille's price changes: the same item, at the version Square has.
        version = variation["version"]
        self.env["product.pricelist.item"].search(
            [
                ("pricelist_id", "=", self.lille_prices.id),
                ("product_id", "=", product.id),
            ]
        ).fixed_price = 11.0
        product.name = "Linen Shirt Blue"
        self.dispatch()
        self.assertEqual(len(self.server.items), 1)
        variation, item = self.variation(product)
        self.assertGreater(variation["version"], version)
        self.assertEqual(item["item_data"]["name"], "Linen Shirt Blue")
        self.assertEqual(
            variation["item_variation_data"]["location_overrides"][0]["price_money"],
            {"amount": 1100, "currency": "USD"},
        )
        self.assertEqual(len(self.deliveries("delivered")), len(self.deliveries()))

    def test_coalesced_a_product_once_per_call_and_other_variations_kept(self):
        product = self.new_product()
        self.dispatch()
        _variation, item = self.variation(product)
        # Square's seller added a variation of their own to the item.
        other = {
            "type": "ITEM_VARIATION",
            "id": "SELLER-VAR",
            "version": item["version"],
            "item_variation_data": {"item_id": item["id"], "sku": "SELLER"},
        }
        item["item_data"]["variations"].append(other)
        rule = self.price(self.base_prices, product, 16.0)
        for amount in (17.0, 18.0):
            self.env.cr.flush()
            rule.fixed_price = amount
        self.server.requests.clear()
        self.dispatch()
        [upsert] = self.upserts()
        self.assertEqual(len(upsert["batches"]), 1, "the product once")
        variation, item = self.variation(product)
        self.assertEqual(
            variation["item_variation_data"]["price_money"]["amount"], 1800
        )
        self.assertIn("SELLER-VAR", [v["id"] for v in item["item_data"]["variations"]])

    def test_a_lost_answer_creates_no_second_item(self):
        product = self.new_product()
        self.server.script = [None, "lose"]  # the search, then the upsert
        self.dispatch()
        self.assertEqual(len(self.server.items), 1, "Square saved it")
        self.assertEqual(len(self.deliveries("failed")), 1)
        self.assertFalse(
            self.env["retail.external.ref"]._external_id(self.square, product)
        )
        self.make_due()
        self.dispatch()
        self.assertEqual(
            len(self.server.items), 1, "found by its SKU, not created again"
        )
        self.assertTrue(self.variation(product)[0])
        self.assertEqual(len(self.deliveries("delivered")), 1)

    def test_a_retry_square_cannot_find_yet_replays_its_key(self):
        product = self.new_product()
        self.server.script = [None, "lose", b'{"objects": []}']
        self.dispatch()
        self.make_due()
        self.dispatch()  # the search does not see the item yet: same request, same key
        first, second = self.upserts()
        self.assertEqual(first, second)
        self.assertEqual(len(self.server.items), 1)
        self.assertTrue(self.variation(product)[0], "bound from the replayed answer")
        self.assertEqual(len(self.deliveries("delivered")), 1)

    def test_a_price_changed_before_the_retry_never_makes_a_twin(self):
        product = self.new_product()
        self.server.script = [None, "lose", b'{"objects": []}']
        self.dispatch()
        self.make_due()
        product.list_price = 99.0  # the backend's pricelist has no rule for it
        self.dispatch()  # not found yet, another price: the same key is refused
        first, second = self.upserts()
        self.assertEqual(first["idempotency_key"], second["idempotency_key"])
        self.assertNotEqual(first, second)
        self.assertIn(
            "IDEMPOTENCY_KEY_REUSED", self.deliveries("failed")[:1].response_excerpt
        )
        self.assertEqual(len(self.server.items), 1)
        self.make_due()
        self.dispatch()  # found by its SKU now: updated
        self.assertEqual(len(self.server.items), 1)
        variation = self.variation(product)[0]
        self.assertEqual(
            variation["item_variation_data"]["price_money"]["amount"], 9900
        )
        self.assertFalse(self.deliveries().filtered(lambda d: d.state != "delivered"))

    def test_429_waits_for_square_and_does_not_open_the_circuit(self):
        self.new_product()
        self.server.script = [429]
        self.dispatch()
        [delivery] = self.deliveries()
        self.assertEqual(delivery.state, "failed")
        self.assertEqual(delivery.last_status_code, 429)
        self.assertTrue(self.subscription.hold_until, "held for the Retry-After")
        self.assertEqual(self.subscription.consecutive_failures, 0)
        self.assertFalse(self.server.items)
        self.assertIn("held", self.subscription._dispatch())
        self.make_due()
        self.dispatch()
        self.assertEqual(delivery.state, "delivered")
        self.assertEqual(len(self.server.items), 1)

    def test_a_version_conflict_is_retried_at_the_new_version(self):
        product = self.new_product()
        self.dispatch()
        variation, item = self.variation(product)
        stale = json.loads(
            json.dumps({"objects": [variation], "related_objects": [item]})
        )
        item["version"] += 1  # someone saved the item in Square's dashboard meanwhile
        for nested in item["item_data"]["variations"]:
            nested["version"] = item["version"]
        self.server.script = [json.dumps(stale).encode()]
        self.price(self.base_prices, product, 21.0)
        self.dispatch()
        [failed] = self.deliveries("failed")
        self.assertIn("VERSION_MISMATCH", failed.response_excerpt or "")
        self.make_due()
        self.dispatch()
        self.assertEqual(failed.state, "delivered")
        self.assertEqual(
            self.variation(product)[0]["item_variation_data"]["price_money"]["amount"],
            2100,
        )

    def test_malformed_and_hostile_answers_lose_nothing(self):
        product = self.new_product()
        for answer, cause in (
            (b'{"objects": "nope"}', "not a list of catalog objects"),
            (b"<html>oops</html>", ""),
            (b'{"objects": [{"id": 7}]}', "not a list of catalog objects"),
        ):
            self.server.script = [answer]
            self.dispatch()
            [delivery] = self.deliveries()
            self.assertEqual(delivery.state, "failed", answer)
            self.assertIn(cause, delivery.response_excerpt or "")
            self.make_due()
        # The upsert answers without the id of the item it created.
        self.server.script = [None, b'{"objects": [], "id_mappings": [{"x": 1}]}']
        self.dispatch()
        self.assertIn("id_mappings", self.deliveries().response_excerpt)
        self.make_due()
        self.server.script = [None, b'{"objects": [], "id_mappings": []}']
        self.dispatch()
        self.assertIn("named no id", self.deliveries().response_excerpt)
        self.assertFalse(self.server.items, "the stand-in saved nothing: scripted")
        self.make_due()
        self.dispatch()
        self.assertEqual(self.deliveries().state, "delivered")
        self.assertEqual(len(self.server.items), 1)
        self.assertTrue(self.variation(product)[0])

    def test_without_sku_nothing_is_sent_and_a_wrong_token_is_retried(self):
        self.env["product.product"].create({"name": "No SKU"})
        self.env.cr.flush()
        self.dispatch()
        for delivery in self.deliveries():
            self.assertEqual(delivery.state, "delivered")
            self.assertIn("no SKU", delivery.response_excerpt)
        self.assertFalse(self.server.requests)
        self.square.api_secret = "wrong"
        self.new_product("SQ-2")
        self.dispatch()
        failed = self.deliveries("failed")
        self.assertEqual(failed.last_status_code, 401)
        self.assertFalse(self.server.items)
