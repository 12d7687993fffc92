from datetime import timedelta
from types import SimpleNamespace
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.addons.retail_integration_outbox.tests.common import allow_private_urls
from odoo.addons.retail_integration_webhook.tests.common import SECRETS

from ..lib.listing import parse_listing
from ..lib.shopify.client import ShopifyClient
from ..lib.shopify.queries import FULFILLMENT_CREATE
from ..lib.woocommerce.client import WooCommerceClient
from .channel_server import SHOPIFY_TOKEN, WOO_KEY, WOO_SECRET, ChannelServer
from .channel_shopify import LOCATION
from .common import StorefrontCase, storefront_subscription

SECOND_LOCATION = "gid://shopify/Location/2"
FLOWS = {
    "storefront_export_stock": True,
    "storefront_export_prices": True,
    "storefront_export_products": True,
    "storefront_export_fulfilment": True,
}


def shopify_variant(product, variant, item, sku, price="20.00", title="Test Mug"):
    return {
        "legacyResourceId": str(variant),
        "sku": sku,
        "price": price,
        "product": {
            "legacyResourceId": str(product),
            "title": title,
            "status": "ACTIVE",
        },
        "inventoryItem": {"legacyResourceId": str(item)},
    }


def shopify_webhook(number, topic, url):
    return {
        "id": f"gid://shopify/WebhookSubscription/{number}",
        "topic": topic,
        "url": url,
    }


def woo_webhook(number, topic, url, status="active"):
    return {
        "id": number,
        "name": f"Hook {number}",
        "status": status,
        "topic": topic,
        "delivery_url": url,
        "secret": "old",
    }


def item_gid(item):
    return f"gid://shopify/InventoryItem/{item}"


def fulfillment_order(number, location, *lines):
    """An open FulfillmentOrder node at ``location``; ``lines`` are (line
    number, remaining quantity, SKU, variant id)."""
    return {
        "id": f"gid://shopify/FulfillmentOrder/{number}",
        "status": "OPEN",
        "assignedLocation": {"location": {"id": location}},
        "lineItems": {
            "nodes": [
                {
                    "id": f"gid://shopify/FulfillmentOrderLineItem/{line}",
                    "remainingQuantity": quantity,
                    "sku": sku,
                    "variant": {"legacyResourceId": variant},
                }
                for line, quantity, sku, variant in lines
            ]
        },
    }


class ExportCase(StorefrontCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(allow_private_urls())
        cls.server = cls.enterClassContext(ChannelServer())
        cls.shopify = cls.backends["shopify"]
        cls.shopify.write(
            {
                "storefront_shop_url": cls.server.url,
                "api_secret": SHOPIFY_TOKEN,
                **FLOWS,
            }
        )
        cls.woo = cls.backends["woocommerce"]
        cls.woo.write(
            {
                "storefront_shop_url": cls.server.url,
                "api_key": WOO_KEY,
                "api_secret": WOO_SECRET,
                **FLOWS,
            }
        )
        cls.shopify_sub = storefront_subscription(cls.shopify)
        cls.woo_sub = storefront_subscription(cls.woo)
        (cls.shopify_sub | cls.woo_sub).write({"retry_jitter": 0})
        cls.stock_location = cls.warehouse.lot_stock_id

    def setUp(self):
        super().setUp()
        server = self.server
        server.script, server.page_size = [], None
        server.shopify_available = 1990
        server.requests.clear()
        server.reset_catalogue()
        server.shopify_variants = [
            shopify_variant(11, 111, 1111, "SKU-1"),
            shopify_variant(22, 222, 2222, "SKU-2", price="10.00", title="Test Cap"),
        ]
        server.woo_products = {
            201: {
                "id": 201,
                "type": "simple",
                "sku": "SKU-1",
                "name": "Test Mug",
                "status": "publish",
                "manage_stock": True,
                "stock_quantity": 0,
                "regular_price": "20.00",
            },
            300: {"id": 300, "type": "variable", "sku": "", "name": "Caps"},
            302: {
                "id": 302,
                "parent_id": 300,
                "type": "variation",
                "sku": "SKU-2",
                "status": "publish",
                "manage_stock": False,
                "stock_quantity": None,
                "regular_price": "10.00",
            },
        }

    def add_stock(self, product, qty):
        self.env["stock.quant"]._update_available_quantity(
            product, self.stock_location, qty
        )
        self.env.cr.flush()  # what happens at commit: the events are written

    def deliveries(self, sub, **filters):
        domain = [("subscription_id", "=", sub.id)]
        domain += [(k, "=", v) for k, v in filters.items()]
        return self.env["retail.outbox.delivery"].search(domain, order="id")

    def make_due(self):
        self.env["retail.outbox.delivery"].search([]).write(
            {"next_attempt": "2000-01-01 00:00:00"}
        )
        self.env["retail.event.subscription"].search([]).hold_until = False

    def set_quantities_calls(self):
        return self.server.graphql_calls("inventorySetQuantities")


@tagged("retail", "-at_install", "post_install")
class TestSubscription(ExportCase):
    def test_one_storefront_subscription_follows_the_flows(self):
        sub = self.shopify_sub
        self.assertEqual(sub.delivery_mode, "storefront")
        self.assertTrue(sub.active)
        codes = {
            "stock.level_changed",
            "price.changed",
            "product.changed",
            "shipment.dispatched",
        }
        Type = self.env["retail.outbox.event.type"]
        delivered = Type.search([("code", "=", "shipment.delivered")])
        if delivered:  # a carrier connector is installed
            codes.add("shipment.delivered")
        self.assertEqual(set(sub.event_type_ids.mapped("code")), codes)
        if not delivered:  # a carrier connector arrives: its type joins
            delivered = Type.create(
                {"name": "Shipment delivered", "code": "shipment.delivered"}
            )
            self.assertIn(delivered, sub.event_type_ids)
        self.shopify.write(
            {
                "storefront_export_prices": False,
                "storefront_export_products": False,
                "storefront_export_fulfilment": False,
            }
        )
        self.assertEqual(sub.event_type_ids.mapped("code"), ["stock.level_changed"])
        self.shopify.storefront_export_stock = False
        self.assertFalse(sub.active)
        self.shopify.storefront_export_stock = True
        self.assertTrue(sub.active)
        self.shopify.action_draft()
        self.assertFalse(sub.active, "a draft backend captures nothing")
        self.shopify.action_activate()
        self.assertEqual(storefront_subscription(self.shopify), sub, "still one")
        self.assertFalse(storefront_subscription(self.backends["generic"]))


@tagged("retail", "-at_install", "post_install")
class TestStockExport(ExportCase):
    def test_shopify_stock_less_buffer_found_by_sku_and_bound(self):
        self.shopify.storefront_safety_buffer = 2
        self.add_stock(self.product_1, 10)
        self.add_stock(self.product_2, 1)
        self.add_stock(self.product_3, 4)  # not on the channel
        self.as_connector(self.shopify_sub)._dispatch()
        delivered = self.deliveries(self.shopify_sub, state="delivered")
        self.assertEqual(len(delivered), 3)
        calls = self.set_quantities_calls()
        self.assertEqual(len(calls), 1, "one call for the batch")
        data = calls[0]["variables"]["input"]
        self.assertEqual(
            (data["name"], data["reason"], data["ignoreCompareQuantity"]),
            ("available", "correction", True),
        )
        self.assertEqual(
            sorted((q["inventoryItemId"], q["quantity"]) for q in data["quantities"]),
            [(item_gid(1111), 8), (item_gid(2222), 0)],
        )
        self.assertEqual(self.server.shopify_inventory[(item_gid(1111), LOCATION)], 8)
        self.assertEqual(self.shopify.storefront_location_id, LOCATION)
        refs = self.env["retail.external.ref"]
        self.assertEqual(
            refs._find_record(self.shopify, "product.product", "shopify:11/111/1111"),
            self.product_1,
        )
        # bound now: the next change does not look the SKU up again
        self.server.requests.clear()
        self.add_stock(self.product_1, 1)
        self.as_connector(self.shopify_sub)._dispatch()
        self.assertFalse(self.server.graphql_calls("productVariants("))
        self.assertEqual(self.server.shopify_inventory[(item_gid(1111), LOCATION)], 9)

    def test_burst_during_an_outage_sends_the_final_value_once(self):
        self.add_stock(self.product_1, 10)
        self.server.script = [503]
        self.as_connector(self.shopify_sub)._dispatch()
        delivery = self.deliveries(self.shopify_sub)
        self.assertEqual(delivery.state, "failed")
        self.assertEqual(delivery.last_status_code, 503)
        for _i in range(1000):
            self.add_stock(self.product_1, 1)
        self.add_stock(self.product_1, -4)
        delivery = self.deliveries(self.shopify_sub)
        self.assertEqual(len(delivery), 1, "coalesced into the waiting delivery")
        self.assertEqual(delivery.coalesced_count, 1001)
        self.make_due()
        self.server.requests.clear()
        self.as_connector(self.shopify_sub)._dispatch()
        self.assertEqual(delivery.state, "delivered")
        calls = self.set_quantities_calls()
        self.assertEqual(len(calls), 1)
        self.assertEqual(
            calls[0]["variables"]["input"]["quantities"],
            [
                {
                    "inventoryItemId": item_gid(1111),
                    "locationId": LOCATION,
                    "quantity": 1006,
                }
            ],
        )

    def test_shopify_cost_throttle_waits_without_tripping_the_circuit(self):
        self.add_stock(self.product_1, 3)
        self.shopify.storefront_location_id = LOCATION
        self.server.script = ["throttled"]
        before = fields.Datetime.now()
        self.as_connector(self.shopify_sub)._dispatch()
        delivery = self.deliveries(self.shopify_sub)
        self.assertEqual(delivery.state, "failed")
        self.assertEqual(delivery.last_status_code, 429)
        self.assertGreaterEqual(delivery.next_attempt, before + timedelta(seconds=4))
        self.assertLessEqual(delivery.next_attempt, before + timedelta(seconds=7))
        self.assertEqual(self.shopify_sub.consecutive_failures, 0)
        self.make_due()
        self.as_connector(self.shopify_sub)._dispatch()
        self.assertEqual(delivery.state, "delivered")

    def test_shopify_calls_pace_themselves_on_the_cost_bucket(self):
        client = ShopifyClient(self.server.url, SHOPIFY_TOKEN, "2025-01")
        waits = []
        client.sleep = waits.append
        client.shop_name()
        self.assertEqual(waits, [], "plenty left: no wait")
        self.server.shopify_available = 4
        client.shop_name()
        self.assertAlmostEqual(waits[-1], 0.06, msg="(10 - 4) points at 100 a second")
        self.server.shopify_available = -2000
        client.shop_name()
        self.assertEqual(waits[-1], 5, "a long wait is capped; the next call retries")

    def test_a_refused_item_fails_alone_then_goes_dead_to_the_inbox(self):
        self.env["retail.external.ref"]._bind(
            self.shopify, self.product_2, "shopify:22/222/9999"
        )
        self.shopify.storefront_location_id = LOCATION
        self.shopify_sub.retry_schedule = "0"
        self.add_stock(self.product_1, 3)
        self.add_stock(self.product_2, 3)
        self.as_connector(self.shopify_sub)._dispatch()
        self.assertEqual(
            self.deliveries(self.shopify_sub).mapped("state"), ["delivered", "dead"]
        )
        dead = self.deliveries(self.shopify_sub, state="dead")
        self.assertIn("inventory item could not be found", dead.last_error)
        exception = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.shopify.id), ("kind", "=", "delivery")]
        )
        self.assertEqual(len(exception), 1)

    def test_woocommerce_products_and_variations_in_batches(self):
        self.woo.storefront_safety_buffer = 1
        self.add_stock(self.product_1, 5)
        self.add_stock(self.product_2, 7)
        self.server.script = [429]
        self.as_connector(self.woo_sub)._dispatch()
        self.assertEqual(set(self.deliveries(self.woo_sub).mapped("state")), {"failed"})
        self.assertEqual(self.woo_sub.consecutive_failures, 0, "429 paces, not fails")
        self.server.script = [None, 500]  # SKU lookup answers, the batch fails
        self.make_due()
        self.as_connector(self.woo_sub)._dispatch()
        self.assertEqual(self.woo_sub.consecutive_failures, 2, "a 5xx counts")
        self.make_due()
        self.server.requests.clear()
        self.as_connector(self.woo_sub)._dispatch()
        self.assertEqual(
            set(self.deliveries(self.woo_sub).mapped("state")), {"delivered"}
        )
        posts = {r[1]: r[2] for r in self.server.requests if r[0] == "POST"}
        self.assertEqual(
            posts["/wp-json/wc/v3/products/batch"],
            {"update": [{"id": 201, "manage_stock": True, "stock_quantity": 4}]},
        )
        self.assertEqual(
            posts["/wp-json/wc/v3/products/300/variations/batch"],
            {"update": [{"id": 302, "manage_stock": True, "stock_quantity": 6}]},
        )
        self.assertEqual(self.server.woo_products[302]["stock_quantity"], 6)

    def test_without_a_warehouse_nothing_is_published_and_the_cause_is_kept(self):
        self.add_stock(self.product_1, 5)
        self.shopify.warehouse_id = False
        self.as_connector(self.shopify_sub)._dispatch()
        delivery = self.deliveries(self.shopify_sub)
        self.assertEqual(delivery.state, "failed")
        self.assertIn("no Default Warehouse", delivery.last_error)
        self.assertFalse(self.set_quantities_calls())

    def test_other_warehouses_are_not_published(self):
        other = self.env["stock.warehouse"].create({"name": "Other", "code": "OTH"})
        self.env["stock.quant"]._update_available_quantity(
            self.product_1, other.lot_stock_id, 5
        )
        self.env.cr.flush()
        self.assertFalse(self.deliveries(self.shopify_sub), "not even queued")
        # Captured for the backend's warehouse, which then changes: delivered
        # without a call.
        self.add_stock(self.product_1, 2)
        self.shopify.warehouse_id = other
        self.as_connector(self.shopify_sub)._dispatch()
        delivery = self.deliveries(self.shopify_sub)
        self.assertEqual(delivery.state, "delivered")
        self.assertFalse(self.set_quantities_calls())


@tagged("retail", "-at_install", "post_install")
class TestCatalogueExport(ExportCase):
    def set_price(self, product, price):
        self.env["product.pricelist.item"].create(
            {
                "pricelist_id": self.pricelist.id,
                "applied_on": "0_product_variant",
                "product_id": product.id,
                "compute_price": "fixed",
                "fixed_price": price,
            }
        )
        self.env.cr.flush()

    def test_prices_and_products_to_shopify(self):
        self.set_price(self.product_1, 15)
        self.set_price(self.product_2, 7.5)
        self.product_1.name = "Renamed Mug"
        self.product_2.active = False
        self.env.cr.flush()
        self.as_connector(self.shopify_sub)._dispatch()
        self.assertEqual(
            set(self.deliveries(self.shopify_sub).mapped("state")), {"delivered"}
        )
        prices = self.server.graphql_calls("productVariantsBulkUpdate")
        self.assertEqual(len(prices), 1, "one request for every product's prices")
        variants = {v["sku"]: v for v in self.server.shopify_variants}
        self.assertEqual(variants["SKU-1"]["price"], "15.00")
        self.assertEqual(variants["SKU-2"]["price"], "7.50")
        self.assertEqual(len(self.server.graphql_calls("productUpdate(")), 1)
        self.assertEqual(variants["SKU-1"]["product"]["title"], "Renamed Mug")
        self.assertEqual(variants["SKU-2"]["product"]["status"], "ARCHIVED")

    def test_prices_and_products_to_woocommerce(self):
        self.set_price(self.product_1, 15)
        self.set_price(self.product_2, 7.5)
        self.product_1.name = "Renamed Mug"
        self.product_2.active = False
        self.env.cr.flush()
        self.as_connector(self.woo_sub)._dispatch()
        self.assertEqual(
            set(self.deliveries(self.woo_sub).mapped("state")), {"delivered"}
        )
        products = self.server.woo_products
        self.assertEqual(products[201]["regular_price"], "15.00")
        self.assertEqual(products[302]["regular_price"], "7.50")
        self.assertEqual(products[201]["name"], "Renamed Mug")
        self.assertEqual(products[302]["status"], "private")


@tagged("retail", "-at_install", "post_install")
class TestNewProducts(ExportCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        size = cls.env["product.attribute"].create(
            {
                "name": "Size",
                "value_ids": [(0, 0, {"name": "S"}), (0, 0, {"name": "M"})],
            }
        )
        cls.hoodie = cls.env["product.template"].create(
            {
                "name": "Test Hoodie",
                "description_sale": "Warm.",
                "list_price": 40.0,
                "weight": 0.5,
                "attribute_line_ids": [
                    (0, 0, {"attribute_id": size.id, "value_ids": size.value_ids.ids})
                ],
            }
        )
        for variant in cls.hoodie.product_variant_ids:
            value = variant.product_template_attribute_value_ids.name
            variant.write({"default_code": f"HOOD-{value}", "barcode": f"400{value}"})
        compare = cls.env["product.pricelist"].create(
            {
                "name": "Before the sale",
                "item_ids": [
                    (0, 0, {"compute_price": "percentage", "percent_price": -25.0})
                ],
            }
        )
        for backend in (cls.shopify, cls.woo):
            backend.write(
                {
                    "storefront_publish_new": True,
                    "storefront_compare_pricelist_id": compare.id,
                }
            )

    def publish(self):
        with trap_jobs() as trap:
            self.hoodie.action_retail_storefront_publish()
            jobs = trap.enqueued_jobs
            self.assertEqual({job.recordset for job in jobs}, {self.shopify, self.woo})
            self.assertEqual(
                {job.user_id for job in jobs},
                {self.shopify.technical_user_id.id, self.woo.technical_user_id.id},
            )
            trap.perform_enqueued_jobs()
        return [job.result for job in jobs]

    def listing_of(self, backend, product):
        refs = backend._storefront_product_refs([("res_id", "=", product.id)])
        return {parse_listing(r.external_id) for r in refs} - {None}

    def test_a_changed_product_not_on_the_channel_is_created_there(self):
        self.product_3.name = "Test Tee v2"
        self.env.cr.flush()
        self.as_connector(self.shopify_sub)._dispatch()
        self.as_connector(self.woo_sub)._dispatch()
        for sub in (self.shopify_sub, self.woo_sub):
            delivery = self.deliveries(sub, event_type="product.changed").filtered(
                lambda d: d.event_id.payload["id"] == self.product_3.id
            )
            self.assertEqual(delivery.state, "delivered")
            self.assertIn("Created on", delivery.response_excerpt)
        created = [
            c["variables"]["product"]["title"]
            for c in self.server.graphql_calls("productCreate(")
        ]
        self.assertEqual(created.count("Test Tee v2"), 1)
        node = next(v for v in self.server.shopify_variants if v["sku"] == "SKU-3")
        self.assertTrue(self.listing_of(self.shopify, self.product_3))
        products = self.server.woo_products.values()
        (woo,) = [p for p in products if p.get("sku") == "SKU-3"]
        self.assertEqual((woo["type"], woo["name"]), ("simple", "Test Tee v2"))
        self.assertTrue(self.listing_of(self.woo, self.product_3))
        # changed again: updated there, not created twice
        self.product_3.name = "Test Tee v3"
        self.env.cr.flush()
        self.as_connector(self.shopify_sub)._dispatch()
        self.assertEqual(len(self.server.graphql_calls("productCreate(")), len(created))
        self.assertEqual(node["product"]["title"], "Test Tee v3")

    def test_publish_a_product_with_its_variants(self):
        self.publish()
        (create,) = self.server.graphql_calls("productCreate(")
        product = create["variables"]["product"]
        self.assertEqual(product["productOptions"][0]["name"], "Size")
        self.assertEqual(product["descriptionHtml"], "Warm.")
        (variants,) = self.server.graphql_calls("productVariantsBulkCreate")
        sent = {v["inventoryItem"]["sku"]: v for v in variants["variables"]["variants"]}
        self.assertEqual(set(sent), {"HOOD-S", "HOOD-M"})
        self.assertEqual(
            (sent["HOOD-S"]["price"], sent["HOOD-S"]["compareAtPrice"]),
            ("40.00", "50.00"),
        )
        self.assertEqual(sent["HOOD-S"]["barcode"], "400S")
        woo = {p.get("sku"): p for p in self.server.woo_products.values()}
        parent = woo["HOOD-S"]["parent_id"]
        self.assertEqual(self.server.woo_products[parent]["type"], "variable")
        self.assertEqual(
            (woo["HOOD-M"]["regular_price"], woo["HOOD-M"]["sale_price"]),
            ("50.00", "40.00"),
        )
        for variant in self.hoodie.product_variant_ids:
            self.assertTrue(self.listing_of(self.shopify, variant))
            self.assertTrue(self.listing_of(self.woo, variant))
        # again: all there, nothing created
        results = self.publish()
        self.assertTrue(all("0 product(s) created" in r for r in results), results)
        self.assertEqual(len(self.server.graphql_calls("productCreate(")), 1)

    def test_a_retry_after_a_lost_answer_finds_the_product_and_binds_it(self):
        self.publish()
        # the answers were lost: Odoo bound nothing
        self.env["retail.external.ref"].search(
            [
                ("res_model", "=", "product.product"),
                ("res_id", "in", self.hoodie.product_variant_ids.ids),
            ]
        ).unlink()
        results = self.publish()
        self.assertTrue(all("0 product(s) created" in r for r in results), results)
        self.assertEqual(len(self.server.graphql_calls("productCreate(")), 1)
        for variant in self.hoodie.product_variant_ids:
            self.assertTrue(self.listing_of(self.shopify, variant))
            self.assertTrue(self.listing_of(self.woo, variant))


@tagged("retail", "-at_install", "post_install")
class TestFulfilmentExport(ExportCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.carrier = cls.env["delivery.carrier"].create(
            {"name": "Stand-in Express", "product_id": cls.shipping_product.id}
        )

    def ship(self, backend, external_id, tracking="TRK-42", lines=None):
        """A confirmed channel order of ``lines`` ([(product, quantity)],
        default 2 × SKU-1), delivered with tracking."""
        lines = lines or [(self.product_1, 2)]
        for product, _quantity in lines:
            self.add_stock(product, 5)
        order = self.env["sale.order"].create(
            {
                "partner_id": self.env["res.partner"].create({"name": "Buyer"}).id,
                "warehouse_id": self.warehouse.id,
                "retail_backend_id": backend.id,
                "order_line": [
                    (0, 0, {"product_id": product.id, "product_uom_qty": quantity})
                    for product, quantity in lines
                ],
            }
        )
        self.env["retail.external.ref"]._bind(backend, order, external_id)
        order.action_confirm()
        picking = order.picking_ids
        picking.write({"carrier_id": self.carrier.id, "carrier_tracking_ref": tracking})
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        picking.button_validate()
        self.env.cr.flush()
        self.assertEqual(picking.state, "done")
        return picking

    def test_shopify_fulfilment_reads_fulfilment_orders_first(self):
        order_gid = "gid://shopify/Order/5001"
        self.server.shopify_fulfillment_orders[order_gid] = [
            fulfillment_order(
                71, LOCATION, (81, 2, "SKU-1", "111"), (82, 1, "SKU-2", "222")
            )
        ]
        picking = self.ship(self.shopify, "5001")
        self.as_connector(self.shopify_sub)._dispatch()
        shipment = self.deliveries(self.shopify_sub, event_type="shipment.dispatched")
        self.assertEqual(shipment.state, "delivered")
        documents = [r[2]["query"] for r in self.server.requests if r[0] == "POST"]
        # the flow of the shipment event names every call it causes
        flow = shipment.event_id.correlation_id
        self.assertTrue(flow)
        self.assertEqual(picking.sale_id.retail_correlation_id or flow, flow)
        calls = [r for r in self.server.requests if "ulfillment" in str(r[2])]
        self.assertGreaterEqual(len(calls), 2)
        self.assertEqual({r[3].get("X-Correlation-Id") for r in calls}, {flow})
        first_fo = next(i for i, d in enumerate(documents) if "fulfillmentOrders(" in d)
        create = next(i for i, d in enumerate(documents) if "fulfillmentCreate" in d)
        self.assertLess(first_fo, create)
        (fulfillment,) = self.server.shopify_fulfillments
        self.assertEqual(
            fulfillment,
            {
                "lineItemsByFulfillmentOrder": [
                    {
                        "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/71",
                        "fulfillmentOrderLineItems": [
                            {
                                "id": "gid://shopify/FulfillmentOrderLineItem/81",
                                "quantity": 2,
                            }
                        ],
                    }
                ],
                "notifyCustomer": True,
                "trackingInfo": {"company": "Stand-in Express", "number": "TRK-42"},
            },
        )
        # sent again (a replay): nothing left to fulfil, no second fulfilment
        shipment.action_replay()
        self.as_connector(self.shopify_sub)._dispatch()
        self.assertEqual(shipment.state, "delivered")
        self.assertIn("Nothing left to fulfil", shipment.response_excerpt)
        self.assertEqual(len(self.server.shopify_fulfillments), 1)

    def split_order(self):
        """Shopify order 5002: SKU-1 at the first location, SKU-2 at another;
        shipped in full from Odoo with tracking."""
        self.shopify.write(
            {  # only the fulfilment is sent: the requests can be counted
                "storefront_export_stock": False,
                "storefront_export_prices": False,
                "storefront_export_products": False,
                "storefront_location_id": LOCATION,
            }
        )
        self.server.shopify_fulfillment_orders["gid://shopify/Order/5002"] = [
            fulfillment_order(71, LOCATION, (81, 2, "SKU-1", "111")),
            fulfillment_order(72, SECOND_LOCATION, (82, 1, "SKU-2", "222")),
        ]
        self.ship(
            self.shopify, "5002", lines=[(self.product_1, 2), (self.product_2, 1)]
        )
        return self.deliveries(self.shopify_sub, event_type="shipment.dispatched")

    def assert_fulfilled(self, fulfillment, order_number, line_number, quantity):
        self.assertEqual(
            fulfillment["lineItemsByFulfillmentOrder"],
            [
                {
                    "fulfillmentOrderId": f"gid://shopify/FulfillmentOrder/{order_number}",
                    "fulfillmentOrderLineItems": [
                        {
                            "id": f"gid://shopify/FulfillmentOrderLineItem/{line_number}",
                            "quantity": quantity,
                        }
                    ],
                }
            ],
        )
        self.assertEqual(
            fulfillment["trackingInfo"],
            {"company": "Stand-in Express", "number": "TRK-42"},
        )

    def test_shopify_order_split_across_locations_gets_one_fulfilment_each(self):
        shipment = self.split_order()
        # Shopify refuses one fulfilment of both locations' fulfilment orders.
        mixed = {
            "lineItemsByFulfillmentOrder": [
                {"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/71"},
                {"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/72"},
            ]
        }
        client = self.shopify._storefront_client()
        answer = client.graphql(FULFILLMENT_CREATE, {"fulfillment": mixed})
        (error,) = answer["data"]["fulfillmentCreate"]["userErrors"]
        self.assertIn("single location", error["message"])
        self.as_connector(self.shopify_sub)._dispatch()
        self.assertEqual(shipment.state, "delivered")
        self.assertIn(
            "gid://shopify/Fulfillment/1, gid://shopify/Fulfillment/2",
            shipment.response_excerpt,
        )
        first, second = self.server.shopify_fulfillments
        self.assert_fulfilled(first, 71, 81, 2)
        self.assert_fulfilled(second, 72, 82, 1)
        orders = self.server.shopify_fulfillment_orders["gid://shopify/Order/5002"]
        self.assertEqual([o["status"] for o in orders], ["CLOSED", "CLOSED"])

    def test_shopify_retry_after_a_partial_fulfilment_fulfils_the_rest_only(self):
        shipment = self.split_order()
        # fulfilment orders read, first location fulfilled, then an outage
        self.server.script = [None, None, 503]
        self.as_connector(self.shopify_sub)._dispatch()
        self.assertEqual(shipment.state, "failed")
        self.assertEqual(len(self.server.shopify_fulfillments), 1)
        self.make_due()
        self.as_connector(self.shopify_sub)._dispatch()
        self.assertEqual(shipment.state, "delivered")
        first, second = self.server.shopify_fulfillments
        self.assert_fulfilled(first, 71, 81, 2)
        self.assert_fulfilled(second, 72, 82, 1)
        self.assertEqual(len(self.server.graphql_calls("fulfillmentCreate")), 3)

    def test_woocommerce_completes_the_order_with_a_tracking_note(self):
        self.server.woo_order_status[727] = "processing"
        self.ship(self.woo, "727")
        self.as_connector(self.woo_sub)._dispatch()
        shipment = self.deliveries(self.woo_sub, event_type="shipment.dispatched")
        self.assertEqual(shipment.state, "delivered")
        self.assertEqual(self.server.woo_order_status[727], "completed")
        (note,) = self.server.woo_notes[727]
        self.assertTrue(note["customer_note"])
        self.assertIn("Stand-in Express", note["note"])
        self.assertIn("TRK-42", note["note"])

    def delivered(self, backend, order_id, numbers=("TRK-42",)):
        """A carrier connector's shipment.delivered of channel order
        ``order_id`` through the exporter; (outcome, text) of its delivery."""
        delivery = SimpleNamespace(
            id=1,
            event_type="shipment.delivered",
            event_id=SimpleNamespace(
                correlation_id="flow-1",
                payload={
                    "sale_order": {"external_refs": {backend.code: order_id}},
                    "tracking_numbers": list(numbers),
                },
            ),
        )
        exporter = self.env["retail.storefront.exporter"]
        outcome, _status, text = self.as_connector(exporter, backend)._deliver(
            backend, [delivery]
        )[1]
        return outcome, text

    def test_a_delivered_parcel_reaches_the_channel_where_it_can(self):
        order_gid = "gid://shopify/Order/5001"
        self.server.shopify_fulfillment_orders[order_gid] = [
            fulfillment_order(71, LOCATION, (81, 2, "SKU-1", "111"))
        ]
        self.ship(self.shopify, "5001")
        self.as_connector(self.shopify_sub)._dispatch()
        self.assertEqual(len(self.server.shopify_fulfillments), 1)
        outcome, text = self.delivered(self.shopify, "5001", ["TRK-OTHER"])
        self.assertIn("no fulfilment left", text)
        outcome, text = self.delivered(self.shopify, "5001")
        self.assertEqual(outcome.kind, "delivered")
        fulfilment = "gid://shopify/Fulfillment/1"
        self.assertEqual(text, f"Fulfilment(s) {fulfilment} marked delivered.")
        self.assertEqual(self.server.shopify_delivered, [fulfilment])
        # told again (a replay): already delivered there, nothing sent
        outcome, text = self.delivered(self.shopify, "5001")
        self.assertIn("no fulfilment left", text)
        self.assertEqual(len(self.server.shopify_delivered), 1)
        # WooCommerce has no delivered status: the customer gets a note, once
        self.server.woo_order_status[727] = "completed"
        for _attempt in range(2):
            outcome, text = self.delivered(self.woo, "727")
        self.assertEqual(
            [n["note"] for n in self.server.woo_notes[727]], ["Delivered (TRK-42)."]
        )
        # an order of another channel is left alone
        outcome, text = self.delivered(self.shopify, None)
        self.assertEqual(text, "Not an order of this channel.")

    def test_woocommerce_retry_after_a_lost_note_answer_adds_no_second_note(self):
        self.woo.write(
            {  # only the fulfilment is sent: the requests can be scripted
                "storefront_export_stock": False,
                "storefront_export_prices": False,
                "storefront_export_products": False,
            }
        )
        self.server.woo_order_status[727] = "processing"
        self.ship(self.woo, "727")
        # completed, notes read, the note created but its answer lost
        self.server.script = [None, None, "lost"]
        self.as_connector(self.woo_sub)._dispatch()
        shipment = self.deliveries(self.woo_sub, event_type="shipment.dispatched")
        self.assertEqual(shipment.state, "failed")
        self.assertEqual(len(self.server.woo_notes[727]), 1)
        self.make_due()
        self.as_connector(self.woo_sub)._dispatch()
        self.assertEqual(shipment.state, "delivered")
        self.assertEqual(self.server.woo_order_status[727], "completed")
        (note,) = self.server.woo_notes[727]
        self.assertIn("TRK-42", note["note"])
        notes = "/wp-json/wc/v3/orders/727/notes"
        read = ("GET", f"{notes}?type=customer")
        self.assertEqual(
            [r[:2] for r in self.server.requests if r[1].startswith(notes)],
            [read, ("POST", notes), read],
            "the retry reads the notes and adds none",
        )

    def test_woocommerce_another_shipments_note_does_not_stop_this_one(self):
        self.server.woo_order_status[727] = "processing"
        earlier = self.env["retail.storefront.exporter"]._tracking_note(
            # the same carrier and tracking number, another shipment
            {
                "name": "WH/OUT/99999",
                "carrier": "Stand-in Express",
                "tracking_ref": "TRK-42",
            }
        )
        self.server.woo_notes[727] = [
            {"id": 1, "note": earlier, "customer_note": True},
            {"id": 2, "note": "Payment received.", "customer_note": False},
        ]
        self.ship(self.woo, "727")
        self.as_connector(self.woo_sub)._dispatch()
        shipment = self.deliveries(self.woo_sub, event_type="shipment.dispatched")
        self.assertEqual(shipment.state, "delivered")
        self.assertEqual(self.server.woo_order_status[727], "completed")
        notes = [n["note"] for n in self.server.woo_notes[727]]
        self.assertEqual(len(notes), 3)
        self.assertIn("WH/OUT/99999", notes[0])
        self.assertIn("TRK-42", notes[2])
        self.assertNotIn("WH/OUT/99999", notes[2])

    def test_orders_of_other_channels_are_left_alone(self):
        self.ship(self.backends["generic"], "G-1")
        self.as_connector(self.shopify_sub)._dispatch()
        shipment = self.deliveries(self.shopify_sub, event_type="shipment.dispatched")
        self.assertEqual(shipment.state, "delivered")
        self.assertFalse(self.server.graphql_calls("fulfillment"))


@tagged("retail", "-at_install", "post_install")
class TestReconcileAndButtons(ExportCase):
    def test_reconciliation_pushes_only_differences_and_reports_them(self):
        self.add_stock(self.product_1, 6)
        self.add_stock(self.product_2, 3)
        self.shopify.storefront_location_id = LOCATION
        self.server.shopify_inventory = {
            (item_gid(1111), LOCATION): 6,
            (item_gid(2222), LOCATION): 9,
        }
        self.server.shopify_variants.append(shopify_variant(33, 333, 3333, "NOPE"))
        self.product_1.lst_price = 20.0
        self.product_2.lst_price = 12.0
        self.server.requests.clear()
        summary = self.as_connector(self.shopify)._storefront_reconcile()
        self.assertIn("3 channel item(s), 2 matched", summary)
        self.assertIn("2 difference(s) pushed", summary)
        (stock,) = self.set_quantities_calls()
        self.assertEqual(
            stock["variables"]["input"]["quantities"],
            [
                {
                    "inventoryItemId": item_gid(2222),
                    "locationId": LOCATION,
                    "quantity": 3,
                }
            ],
        )
        (prices,) = self.server.graphql_calls("productVariantsBulkUpdate")
        self.assertEqual(
            list(prices["variables"].values())[1],
            [{"id": "gid://shopify/ProductVariant/222", "price": "12.00"}],
        )
        self.assertIn("Test Cap", self.shopify.storefront_reconcile_summary)
        self.assertIn("9 → 3", self.shopify.message_ids[0].body)
        self.server.requests.clear()
        summary = self.as_connector(self.shopify)._storefront_reconcile()
        self.assertIn("0 difference(s) pushed", summary)
        self.assertFalse(self.set_quantities_calls())

    def test_woocommerce_reconciliation(self):
        self.add_stock(self.product_1, 2)
        self.product_1.lst_price = 20.0
        self.product_2.lst_price = 10.0
        summary = self.as_connector(self.woo)._storefront_reconcile()
        self.assertIn("2 channel item(s), 2 matched", summary)
        products = self.server.woo_products
        self.assertEqual(products[201]["stock_quantity"], 2)
        self.assertEqual(
            (products[302]["stock_quantity"], products[302]["manage_stock"]), (0, True)
        )
        self.assertIn("2 difference(s) pushed", summary)

    def rename_and_archive(self):
        """Names and status only: SKU-1 renamed, SKU-2 archived, SKU-3 (with
        an ampersand) unchanged."""
        for backend in (self.shopify, self.woo):
            backend.write(
                {"storefront_export_stock": False, "storefront_export_prices": False}
            )
        self.product_1.name = "Renamed Mug"
        self.product_2.active = False
        self.product_3.name = "Tee & Co"
        self.server.requests.clear()

    def test_shopify_reconciliation_of_names_and_status(self):
        self.server.shopify_variants.append(
            shopify_variant(33, 333, 3333, "SKU-3", title="Tee & Co")
        )
        self.rename_and_archive()
        summary = self.as_connector(self.shopify)._storefront_reconcile()
        self.assertIn("3 channel item(s), 3 matched", summary)
        self.assertIn("2 difference(s) pushed, 0 refused", summary)
        (call,) = self.server.graphql_calls("productUpdate(")
        self.assertEqual(
            sorted(call["variables"].values(), key=lambda v: v["id"]),
            [
                {
                    "id": "gid://shopify/Product/11",
                    "title": "Renamed Mug",
                    "status": "ACTIVE",
                },
                {
                    "id": "gid://shopify/Product/22",
                    "title": "Test Cap",
                    "status": "ARCHIVED",
                },
            ],
        )
        report = self.shopify.storefront_reconcile_summary
        self.assertIn("Renamed Mug name: Test Mug → Renamed Mug (updated)", report)
        self.assertIn("Test Cap status: active → inactive (updated)", report)
        self.assertNotIn("Tee", report)
        self.server.requests.clear()
        summary = self.as_connector(self.shopify)._storefront_reconcile()
        self.assertIn("0 difference(s) pushed", summary)
        self.assertFalse(self.server.graphql_calls("productUpdate("))

    def test_woocommerce_reconciliation_of_names_and_status(self):
        self.server.woo_products[203] = {
            "id": 203,
            "type": "simple",
            "sku": "SKU-3",
            "name": "Tee &amp; Co",  # as WordPress keeps it
            "status": "publish",
        }
        self.rename_and_archive()
        summary = self.as_connector(self.woo)._storefront_reconcile()
        self.assertIn("3 channel item(s), 3 matched", summary)
        self.assertIn("2 difference(s) pushed, 0 refused", summary)
        posts = {r[1]: r[2] for r in self.server.requests if r[0] == "POST"}
        self.assertEqual(
            posts,
            {
                "/wp-json/wc/v3/products/batch": {
                    "update": [{"id": 201, "name": "Renamed Mug", "status": "publish"}]
                },
                "/wp-json/wc/v3/products/300/variations/batch": {
                    "update": [{"id": 302, "status": "private"}]
                },
            },
        )
        report = self.woo.storefront_reconcile_summary
        self.assertIn("Renamed Mug name: Test Mug → Renamed Mug (updated)", report)
        self.assertIn("Test Cap status: active → inactive (updated)", report)
        self.assertNotIn("Tee", report)
        self.server.requests.clear()
        summary = self.as_connector(self.woo)._storefront_reconcile()
        self.assertIn("0 difference(s) pushed", summary)

    def test_buttons(self):
        action = self.shopify.action_storefront_test_connection()
        self.assertIn("Stand-in Shop", action["params"]["message"])
        action = self.woo.action_storefront_test_connection()
        self.assertIn("9.6.0", action["params"]["message"])
        action = self.shopify.action_storefront_register_webhooks()
        self.assertIn("5 registered, 0 already present", action["params"]["message"])
        url = self.endpoints["shopify"].url
        self.assertEqual(
            [(h["topic"], h["url"]) for h in self.server.shopify_webhooks],
            [
                ("ORDERS_CREATE", url),
                ("ORDERS_UPDATED", url),
                ("ORDERS_PAID", url),
                ("ORDERS_CANCELLED", url),
                ("REFUNDS_CREATE", url),
            ],
        )
        action = self.shopify.action_storefront_register_webhooks()  # again
        self.assertIn("0 registered, 5 already present", action["params"]["message"])
        self.assertEqual(len(self.server.shopify_webhooks), 5)

    def test_woocommerce_webhooks_registered_once(self):
        url = self.endpoints["woocommerce"].url
        secret = SECRETS["woocommerce"]
        self.server.page_size = 2  # the list comes in pages
        self.server.woo_webhooks = [
            {  # another application's
                "id": 1,
                "name": "ERP",
                "status": "active",
                "topic": "order.created",
                "delivery_url": "https://erp.example.com/hook",
                "secret": "other",
            },
            {  # ours, disabled by WooCommerce after failed deliveries
                "id": 2,
                "name": "Odoo",
                "status": "disabled",
                "topic": "order.updated",
                "delivery_url": url,
                "secret": "old",
            },
        ]
        action = self.woo.action_storefront_register_webhooks()
        message = action["params"]["message"]
        self.assertIn("3 registered, 1 already present", message)
        self.assertIn("1 of them set active again", message)
        ours = [h for h in self.server.woo_webhooks if h["delivery_url"] == url]
        self.assertEqual(
            sorted(h["topic"] for h in ours),
            ["order.created", "order.deleted", "order.restored", "order.updated"],
        )
        self.assertEqual(
            {(h["status"], h["secret"]) for h in ours}, {("active", secret)}
        )
        self.server.requests.clear()
        rotated = "rotated-" + secret
        self.endpoints["woocommerce"].secret = rotated
        action = self.woo.action_storefront_register_webhooks()
        self.assertIn("0 registered, 4 already present", action["params"]["message"])
        self.assertEqual(len(self.server.woo_webhooks), 5, "nothing created again")
        methods = [r[0] for r in self.server.requests]
        self.assertEqual(methods.count("GET"), 3, "the three pages of five")
        self.assertEqual(methods.count("PUT"), 4, "the rotated secret, to each")
        self.assertEqual(
            {(h["status"], h["secret"]) for h in ours}, {("active", rotated)}
        )

    def regenerate(self, provider):
        """A new URL for the provider's endpoint: (old URL, new URL)."""
        endpoint = self.endpoints[provider]
        old_url = endpoint.url
        endpoint.action_regenerate_token()
        return old_url, endpoint.url

    def test_shopify_dead_webhooks_removed(self):
        old_url, url = self.regenerate("shopify")
        archived = self.endpoints["generic"]
        archived.active = False  # may come back: its URL is left alone
        self.server.page_size = 2  # the list comes in pages
        # a token this database never had: another database's, on the same URL
        other_database = url.rsplit("/", 1)[0] + "/" + "x" * 43
        self.server.shopify_webhooks = [
            shopify_webhook(1, "ORDERS_CREATE", old_url),
            shopify_webhook(2, "ORDERS_CREATE", "https://erp.example.com/hook"),
            shopify_webhook(3, "ORDERS_PAID", archived.url),
            shopify_webhook(4, "ORDERS_PAID", other_database),
            shopify_webhook(5, "ORDERS_UPDATED", old_url + "?source=shop"),
        ]
        action = self.shopify.action_storefront_register_webhooks()
        message = action["params"]["message"]
        self.assertIn("5 registered, 0 already present. 2 old webhook(s)", message)
        self.assertIn("2 old webhook(s) removed", self.shopify.message_ids[0].body)
        self.assertEqual(
            [h["url"] for h in self.server.shopify_webhooks],
            ["https://erp.example.com/hook", archived.url, other_database] + [url] * 5,
        )
        self.server.requests.clear()
        action = self.shopify.action_storefront_register_webhooks()
        self.assertNotIn("removed", action["params"]["message"])
        self.assertFalse(self.server.graphql_calls("webhookSubscriptionDelete"))
        self.assertEqual(len(self.server.shopify_webhooks), 8)

    def test_woocommerce_dead_and_duplicate_webhooks_removed(self):
        old_url, url = self.regenerate("woocommerce")
        other = self.endpoints["shopify"].url  # another backend's
        self.server.woo_webhooks = [
            woo_webhook(1, "order.created", old_url),
            woo_webhook(2, "order.created", "https://erp.example.com/hook"),
            woo_webhook(3, "order.created", other),
            woo_webhook(4, "order.updated", url, status="disabled"),
            woo_webhook(5, "order.updated", url),  # the active one is kept
        ]
        action = self.woo.action_storefront_register_webhooks()
        message = action["params"]["message"]
        self.assertIn("3 registered, 1 already present. 2 old webhook(s)", message)
        self.assertIn("2 old webhook(s) removed", self.woo.message_ids[0].body)
        deletes = [r[1] for r in self.server.requests if r[0] == "DELETE"]
        self.assertEqual(
            deletes,
            [
                "/wp-json/wc/v3/webhooks/1?force=true",
                "/wp-json/wc/v3/webhooks/4?force=true",
            ],
        )
        hooks = self.server.woo_webhooks
        self.assertEqual([h["id"] for h in hooks[:3]], [2, 3, 5])
        self.assertEqual(
            [(h["topic"], h["delivery_url"]) for h in hooks],
            [
                ("order.created", "https://erp.example.com/hook"),
                ("order.created", other),
                ("order.updated", url),
                ("order.created", url),
                ("order.deleted", url),
                ("order.restored", url),
            ],
        )
        self.server.requests.clear()
        action = self.woo.action_storefront_register_webhooks()
        self.assertIn("0 registered, 4 already present.", action["params"]["message"])
        self.assertNotIn("removed", action["params"]["message"])
        self.assertFalse([r for r in self.server.requests if r[0] == "DELETE"])

    def gone_after_listing(self, client_class, hooks):
        """Patch ``client_class.webhooks``: the channel's first webhook is
        deleted on the shop once they are listed."""
        listed = client_class.webhooks

        def webhooks(client):
            found = list(listed(client))
            del hooks[0]
            return found

        return patch.object(client_class, "webhooks", webhooks)

    def test_webhooks_gone_before_their_delete(self):
        """Counted as removed: Shopify's userError, WooCommerce's 404."""
        old_url, _url = self.regenerate("shopify")
        self.server.shopify_webhooks = [shopify_webhook(1, "ORDERS_CREATE", old_url)]
        with self.gone_after_listing(ShopifyClient, self.server.shopify_webhooks):
            action = self.shopify.action_storefront_register_webhooks()
        self.assertIn("1 old webhook(s) removed", action["params"]["message"])
        self.assertEqual(len(self.server.graphql_calls("webhookSubscriptionDelete")), 1)
        self.assertEqual(len(self.server.shopify_webhooks), 5)
        old_url, _url = self.regenerate("woocommerce")
        # Not the id of a webhook created after it (WooCommerce never reuses one).
        self.server.woo_webhooks = [woo_webhook(9, "order.created", old_url)]
        with self.gone_after_listing(WooCommerceClient, self.server.woo_webhooks):
            action = self.woo.action_storefront_register_webhooks()
        self.assertIn("1 old webhook(s) removed", action["params"]["message"])
        self.assertEqual([r[0] for r in self.server.requests].count("DELETE"), 1)
        self.assertEqual(len(self.server.woo_webhooks), 4)

    def test_a_delete_that_fails_is_reported_and_tried_again(self):
        old_url, _url = self.regenerate("woocommerce")
        self.server.woo_webhooks = [woo_webhook(9, "order.created", old_url)]
        # the list and the four creations pass; the delete meets an outage
        self.server.script = [None] * 5 + [503]
        action = self.woo.action_storefront_register_webhooks()
        message = action["params"]["message"]
        self.assertIn("4 registered", message)
        self.assertIn("1 old webhook(s) could not be removed", message)
        self.assertNotIn("removed.", message)
        self.assertIn("could not be removed", self.woo.message_ids[0].body)
        self.assertIn(9, [h["id"] for h in self.server.woo_webhooks])
        action = self.woo.action_storefront_register_webhooks()
        self.assertIn("1 old webhook(s) removed", action["params"]["message"])
        self.assertNotIn(9, [h["id"] for h in self.server.woo_webhooks])
