"""The field lists on the payloads of each provider, shaped as the
connectors' tests and stand-ins send them."""

import copy
import json
from pathlib import Path

from odoo.tests import BaseCase

from odoo.addons.retail_integration_carrier.tests.easypost_server import (
    detail,
    tracker_event,
)
from odoo.addons.retail_integration_pos.tests.square_server import square_order
from odoo.addons.retail_integration_storefront.tests.payloads import (
    SHOPIFY_ORDER,
    WOO_ORDER,
    generic_order,
    stripe_event,
)

from ..lib import pii
from ..lib.pii import MASK

POS_SAMPLE = (
    Path(__file__).parents[2]
    / "retail_integration_pos"
    / "demo"
    / "sample_tickets.json"
)


def masked(provider, payload, topic=None):
    spec = pii.field_list(provider, topic)
    text, count = pii.mask_json(json.dumps(payload), spec)
    return json.loads(text), count


class TestFieldLists(BaseCase):
    def test_shopify_order(self):
        order, count = masked("shopify", SHOPIFY_ORDER, "orders/create")
        self.assertEqual(order["email"], MASK)
        self.assertEqual(order["customer"]["first_name"], MASK)
        self.assertEqual(order["customer"]["id"], 115310627314723954)
        self.assertIsNone(order["customer"]["phone"])  # nothing to mask
        for key in ("billing_address", "shipping_address"):
            address = order[key]
            for personal in ("name", "address1", "city", "zip", "phone"):
                self.assertEqual(address[personal], MASK, (key, personal))
            self.assertEqual(address["country_code"], "US")
        # What support needs stays: ids, totals, SKUs, product names, codes.
        self.assertEqual(order["id"], SHOPIFY_ORDER["id"])
        self.assertEqual(order["name"], "#9999")
        self.assertEqual(order["total_price"], "62.00")
        self.assertEqual(
            [(li["sku"], li["name"], li["price"]) for li in order["line_items"]],
            [
                (li["sku"], li["name"], li["price"])
                for li in SHOPIFY_ORDER["line_items"]
            ],
        )
        self.assertEqual(order["discount_codes"], SHOPIFY_ORDER["discount_codes"])
        self.assertEqual(count, 23)

    def test_woocommerce_order(self):
        payload = dict(WOO_ORDER, customer_ip_address="203.0.113.7")
        order, _count = masked("woocommerce", payload, "order.created")
        self.assertEqual(order["billing"]["email"], MASK)
        self.assertEqual(order["billing"]["address_1"], MASK)
        self.assertEqual(order["billing"]["country"], "US")
        self.assertEqual(order["shipping"]["last_name"], MASK)
        self.assertEqual(order["customer_ip_address"], MASK)
        self.assertEqual(order["customer_id"], 26)
        self.assertEqual(order["total"], "47.00")
        self.assertEqual(order["line_items"], WOO_ORDER["line_items"])
        self.assertEqual(order["shipping_lines"], WOO_ORDER["shipping_lines"])

    def test_generic_storefront_order(self):
        order, _count = masked("generic", generic_order(), "order.created")
        self.assertEqual(
            order["customer"],
            {"id": "C-501", **dict.fromkeys(("email", "name", "phone"), MASK)},
        )
        self.assertEqual(order["shipping_address"]["street2"], MASK)
        self.assertEqual(order["shipping_address"]["country_code"], "US")
        self.assertEqual(order["note"], MASK)
        self.assertEqual(order["lines"], generic_order()["lines"])
        self.assertEqual(order["shipping"], generic_order()["shipping"])
        self.assertEqual(order["total"], "65.90")

    def test_stripe_event_on_any_storefront(self):
        event = stripe_event("charge.succeeded")
        charge = event["data"]["object"]
        # Stripe's Charge object: billing details, receipt e-mail, shipping.
        charge["receipt_email"] = "jenny@example.com"
        charge["billing_details"] = {
            "name": "Jenny Rosen",
            "email": "jenny@example.com",
            "phone": None,
            "address": {"line1": "1 Main", "city": "Berlin", "country": "DE"},
        }
        charge["shipping"] = {"name": "Jenny Rosen", "address": {"line1": "2 Side"}}
        for provider in ("woocommerce", "shopify", "generic"):
            event_out, _count = masked(provider, event, "charge.succeeded")
            out = event_out["data"]["object"]
            self.assertEqual(out["receipt_email"], MASK)
            self.assertEqual(out["billing_details"]["name"], MASK)
            self.assertEqual(out["billing_details"]["address"]["city"], MASK)
            self.assertEqual(out["billing_details"]["address"]["country"], "DE")
            self.assertEqual(out["shipping"]["address"]["line1"], MASK)
            self.assertEqual(out["amount"], 4700)
            self.assertEqual(out["metadata"], {"order_id": "727"})
            self.assertEqual(event_out["id"], event["id"])

    def test_stripe_checkout_session_and_card_source(self):
        """A Checkout Session's top-level customer_email, and the address
        fields of a legacy card source (Stripe's API reference shapes)."""
        session = {
            "id": "evt_1",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": "cs_test_a1",
                    "object": "checkout.session",
                    "amount_total": 2000,
                    "customer_email": "jenny@example.com",
                    "customer_details": {
                        "email": "jenny@example.com",
                        "name": "Jenny Rosen",
                        "address": {"line1": "1 Main", "country": "DE"},
                    },
                    "metadata": {"order_id": "727"},
                }
            },
        }
        out, _count = masked("woocommerce", session, "checkout.session.completed")
        obj = out["data"]["object"]
        self.assertEqual(obj["customer_email"], MASK)
        self.assertEqual(obj["customer_details"]["name"], MASK)
        self.assertEqual(obj["customer_details"]["address"]["country"], "DE")
        self.assertEqual(obj["amount_total"], 2000)
        self.assertEqual(obj["metadata"], {"order_id": "727"})
        event = stripe_event("charge.succeeded")
        event["data"]["object"]["source"] = {
            "id": "card_1",
            "object": "card",
            "brand": "Visa",
            "last4": "4242",
            "name": "Jenny Rosen",
            "address_line1": "1 Main",
            "address_line2": "Flat 2",
            "address_city": "Berlin",
            "address_zip": "10115",
            "address_state": "BE",
            "address_country": "DE",
        }
        out, _count = masked("shopify", event, "charge.succeeded")
        source = out["data"]["object"]["source"]
        for key in ("name", "address_line1", "address_line2", "address_city"):
            self.assertEqual(source[key], MASK, key)
        self.assertEqual(source["address_zip"], MASK)
        self.assertEqual(source["address_state"], MASK)
        self.assertEqual(
            (source["last4"], source["brand"], source["address_country"]),
            ("4242", "Visa", "DE"),
        )

    def test_square_orders_and_canonical_tickets(self):
        order = square_order("ORD-1", "LOC-1", [("VAR-1", 2, 500)], [("CARD", 1000)])
        order["customer_id"] = "CUST-9"
        order["tenders"][0]["card_details"] = {
            "card": {"cardholder_name": "Amelia Earhart", "last_4": "1111"}
        }
        order["fulfillments"] = [
            {
                "type": "PICKUP",
                "pickup_details": {
                    "recipient": {
                        "display_name": "Amelia Earhart",
                        "email_address": "amelia@example.com",
                        "phone_number": "+1 555 0101",
                    }
                },
            }
        ]
        out, _count = masked("square", {"data": {"object": {"order": order}}})
        out = out["data"]["object"]["order"]
        recipient = out["fulfillments"][0]["pickup_details"]["recipient"]
        self.assertEqual(set(recipient.values()), {MASK})
        self.assertEqual(
            out["tenders"][0]["card_details"]["card"]["cardholder_name"], MASK
        )
        self.assertEqual(out["tenders"][0]["card_details"]["card"]["last_4"], "1111")
        self.assertEqual(out["customer_id"], "CUST-9")
        self.assertEqual(out["line_items"], order["line_items"])
        self.assertEqual(out["total_money"], order["total_money"])

        batch = json.loads(POS_SAMPLE.read_text())
        batch["tickets"][0]["customer"] = {
            "id": "LOYAL-7",
            "email": "sam@example.com",
            "name": "Sam Shopper",
        }
        out, _count = masked("square", batch, "pos.tickets")
        ticket = out["tickets"][0]
        self.assertEqual(
            ticket["customer"], {"id": "LOYAL-7", "email": MASK, "name": MASK}
        )
        self.assertEqual(ticket["cashier"], MASK)
        self.assertEqual(ticket["lines"], batch["tickets"][0]["lines"])
        self.assertEqual(ticket["total"], "28.90")

    def test_easypost_tracker(self):
        tracker = {
            "id": "trk_1",
            "object": "Tracker",
            "tracking_code": "9400100000000000000000",
            "status": "delivered",
            "signed_by": "John Tester",
            "tracking_details": [
                detail("delivered", "2026-12-03T10:00:00Z", city="Boise")
            ],
            "carrier_detail": {
                "object": "CarrierDetail",
                "destination_location": "BOISE ID, 83702",
                "destination_tracking_location": {"city": "Boise", "zip": "83702"},
            },
        }
        event, _count = masked("easypost", json.loads(tracker_event(tracker)))
        out = event["result"]
        self.assertEqual(out["signed_by"], MASK)
        location = out["tracking_details"][0]["tracking_location"]
        self.assertEqual((location["city"], location["state"]), (MASK, MASK))
        self.assertEqual(location["country"], "US")
        self.assertEqual(out["carrier_detail"]["destination_location"], MASK)
        self.assertEqual(out["tracking_code"], tracker["tracking_code"])
        self.assertEqual(out["tracking_details"][0]["status"], "delivered")

    def test_outbox_order_payload(self):
        payload = {
            "name": "S00042",
            "partner": {
                "id": 7,
                "name": "Jane Doe",
                "email": "jane@example.com",
                "ref": "C-501",
                "country": "US",
            },
            "shipping_partner": {
                "id": 8,
                "name": "Jane Doe",
                "email": None,
                "ref": None,
                "country": "US",
            },
            "amount_total": 65.9,
            "lines": [
                {
                    "product": {"id": 3, "default_code": "DEMO-MUG", "name": "Mug"},
                    "quantity": 2.0,
                    "price_unit": 12.5,
                }
            ],
        }
        out, count = pii.FIELD_LISTS["outbox"].mask(copy.deepcopy(payload))
        self.assertEqual(
            out["partner"],
            {"id": 7, "name": MASK, "email": MASK, "ref": "C-501", "country": "US"},
        )
        self.assertEqual(out["shipping_partner"]["name"], MASK)
        self.assertEqual(out["lines"], payload["lines"])
        self.assertEqual(out["amount_total"], 65.9)
        self.assertEqual(count, 3)

    def test_masking_twice_changes_nothing_and_bad_bodies(self):
        spec = pii.field_list("shopify")
        once, count = pii.mask_json(json.dumps(SHOPIFY_ORDER), spec)
        self.assertTrue(count)
        self.assertEqual(pii.mask_json(once, spec), (once, 0))
        self.assertEqual(pii.mask_json("not json {", spec), (MASK, 1))
        # Hostile nesting (a 1 MB body of brackets) is masked whole, not
        # left to fail the cron's batch at every run.
        deep = "[" * 500_000 + "]" * 500_000
        self.assertEqual(pii.mask_json(deep, spec), (MASK, 1))
        deep = '{"customer":' * 2000 + '"Jane"' + "}" * 2000
        self.assertEqual(pii.mask_json(deep, spec), (MASK, 1))
        self.assertEqual(pii.mask_json("", spec), ("", 0))

    def test_registry_lookup(self):
        self.assertEqual(pii.field_list("square", "order.updated").key, "square")
        self.assertEqual(pii.field_list("square", "pos.zreport").key, "pos_tickets")
        self.assertEqual(
            pii.field_list("shopify", "payment_intent.succeeded").key, "stripe"
        )
        self.assertEqual(pii.field_list("unknown_provider").key, "generic")
        pii.register(
            "acme", pii.FieldList("Acme", keys=frozenset({"mail"}), providers=("acme",))
        )
        self.addCleanup(pii.FIELD_LISTS.unregister, "acme")
        self.assertEqual(
            pii.field_list("acme").mask({"mail": "a@b.c"}), ({"mail": MASK}, 1)
        )
