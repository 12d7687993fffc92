from odoo.tests import BaseCase

from odoo.addons.retail_integration.lib.api_errors import (
    ApiError,
    Throttled,
    Unavailable,
)
from odoo.addons.retail_integration_outbox.lib import retry

from ..lib import export
from ..lib.listing import (
    differences,
    format_price,
    listing_key,
    parse_listing,
    published_quantity,
)
from ..lib.shopify.client import fulfilment_lines, user_error_indexes
from ..lib.shopify.listing import shopify_item
from ..lib.woocommerce.listing import woo_item


class TestListing(BaseCase):
    def test_keys_round_trip(self):
        key = listing_key("shopify", "11", "111", "1111")
        self.assertEqual(key, "shopify:11/111/1111")
        self.assertEqual(parse_listing(key), ("shopify", "11", "111", "1111"))
        self.assertEqual(
            parse_listing(listing_key("woocommerce", 201)),
            ("woocommerce", "201", None, None),
        )
        self.assertEqual(
            parse_listing("woo:300/302"), ("woocommerce", "300", "302", None)
        )
        for other in ("808950810", "sku:SKU-1", "shopify:1/2", "woo:/", "", None):
            self.assertIsNone(parse_listing(other), other)

    def test_published_quantity_is_whole_units_above_the_buffer(self):
        self.assertEqual(published_quantity(10, 2), 8)
        self.assertEqual(published_quantity(2.5, 0), 2)
        self.assertEqual(published_quantity(1, 3), 0, "never below zero")
        self.assertEqual(published_quantity(-4, 0), 0)
        self.assertEqual(published_quantity(3.0000000001 - 1e-12, 0), 3)

    def test_differences_only(self):
        items = [
            {"key": "a", "stock": 5, "price": "10.00", "name": "Mug", "active": True},
            {"key": "b", "stock": 7, "price": "9.50", "name": "Cap ", "active": True},
            {
                "key": "c",
                "stock": None,
                "price": "1.00",
                "name": "Tee",
                "active": False,
            },
            {"key": "unknown", "stock": 1, "price": "1.00"},
        ]
        wanted = {
            "a": {"stock": 5, "price": "10.00", "name": "Big Mug", "active": True},
            "b": {"stock": 6, "price": "9.5", "name": "Cap", "active": False},
            "c": {"stock": 0, "active": False},
        }
        self.assertEqual(
            differences(items, wanted),
            [
                ("a", "name", "Mug", "Big Mug"),
                ("b", "stock", 7, 6),
                ("b", "active", True, False),
                ("c", "stock", None, 0),
            ],
        )
        self.assertEqual(format_price(12.5, 2), "12.50")
        self.assertEqual(format_price(3, 0), "3")


class TestShopifyShapes(BaseCase):
    def test_user_errors_name_the_refused_quantity(self):
        errors = [
            {"field": ["input", "quantities", "3", "inventoryItemId"], "message": "x"},
            {"field": ["input", "reason"], "message": "bad reason"},
        ]
        self.assertEqual(
            user_error_indexes(errors, "quantities"), {3: "x", None: "bad reason"}
        )

    def test_fulfilment_lines_take_what_was_shipped_from_open_orders(self):
        orders = [
            {"id": "fo-closed", "status": "CLOSED", "lineItems": {"nodes": []}},
            {
                "id": "fo-1",
                "status": "OPEN",
                "assignedLocation": {"location": {"id": "loc-1"}},
                "lineItems": {
                    "nodes": [
                        {
                            "id": "l1",
                            "remainingQuantity": 2,
                            "sku": "A",
                            "variant": {"legacyResourceId": "9"},
                        },
                        {"id": "l2", "remainingQuantity": 1, "sku": "B"},
                        {"id": "l3", "remainingQuantity": 0, "sku": "C"},
                    ]
                },
            },
        ]
        shipped = [("X", "9", 1), ("B", None, 5), ("C", None, 1)]
        self.assertEqual(
            fulfilment_lines(orders, shipped),
            {
                "loc-1": [
                    {
                        "fulfillmentOrderId": "fo-1",
                        "fulfillmentOrderLineItems": [
                            {"id": "l1", "quantity": 1},
                            {"id": "l2", "quantity": 1},
                        ],
                    }
                ]
            },
        )
        self.assertEqual(fulfilment_lines(orders, [("C", None, 1)]), {})

    def test_fulfilment_lines_grouped_by_location(self):
        def order(fo_id, location, status="OPEN", remaining=1):
            return {
                "id": fo_id,
                "status": status,
                "assignedLocation": {"location": {"id": location}},
                "lineItems": {
                    "nodes": [
                        {"id": f"{fo_id}-l", "remainingQuantity": remaining, "sku": "A"}
                    ]
                },
            }

        orders = [
            order("fo-1", "loc-1"),
            order("fo-2", "loc-2", status="IN_PROGRESS"),
            order("fo-3", "loc-1"),
            order("fo-4", "loc-3", status="CLOSED"),
            order("fo-5", "loc-4", remaining=0),
        ]
        by_location = fulfilment_lines(orders, [("A", None, 10)])
        self.assertEqual(list(by_location), ["loc-1", "loc-2"])
        self.assertEqual(
            [e["fulfillmentOrderId"] for e in by_location["loc-1"]], ["fo-1", "fo-3"]
        )
        self.assertEqual(
            by_location["loc-2"][0]["fulfillmentOrderLineItems"],
            [{"id": "fo-2-l", "quantity": 1}],
        )

    def test_items(self):
        node = {
            "legacyResourceId": "111",
            "sku": "SKU-1",
            "price": "20.00",
            "product": {"legacyResourceId": "11", "title": "Mug", "status": "ACTIVE"},
            "inventoryItem": {
                "legacyResourceId": "1111",
                "inventoryLevel": {
                    "quantities": [{"name": "available", "quantity": 4}]
                },
            },
        }
        self.assertEqual(
            shopify_item(node),
            {
                "sku": "SKU-1",
                "key": "shopify:11/111/1111",
                "stock": 4,
                "price": "20.00",
                "name": "Mug",
                "active": True,
            },
        )
        variation = {
            "id": 302,
            "parent_id": 300,
            "sku": "V",
            "manage_stock": False,
            "stock_quantity": 3,
            "regular_price": "5",
            "status": "private",
        }
        item = woo_item(variation, {"name": "Tee &amp; Co"})
        self.assertEqual(item["key"], "woo:300/302")
        self.assertIsNone(item["stock"], "stock not managed: not tracked")
        self.assertEqual((item["name"], item["active"]), ("Tee & Co", False))


class TestOutcomes(BaseCase):
    def test_throttling_waits_without_counting_as_a_failure(self):
        outcome = export.failed(Throttled("slow down", 4.2))
        self.assertEqual(outcome.kind, retry.RETRY)
        self.assertEqual(outcome.retry_after, 5)
        self.assertFalse(outcome.counts_for_circuit)

    def test_outages_and_refusals_retry_on_the_schedule(self):
        for err in (Unavailable("down", 503), ApiError("HTTP 401", 401)):
            outcome = export.failed(err)
            self.assertEqual(outcome.kind, retry.RETRY)
            self.assertIsNone(outcome.retry_after)
            self.assertTrue(outcome.counts_for_circuit)
        self.assertEqual(export.delivered("ok").kind, retry.DELIVERED)
        self.assertEqual(export.retry_refused("bad SKU").kind, retry.RETRY)
