"""Channel payloads shaped as each provider documents them (trimmed to the
fields a connector reads, plus a few it must ignore)."""

import copy
import json
from pathlib import Path

SAMPLE = Path(__file__).parent.parent / "demo" / "sample_order.json"


def generic_order(**overrides):
    payload = json.loads(SAMPLE.read_text())
    payload.update(overrides)
    return payload


SHOPIFY_ORDER = {
    "id": 820982911946154508,
    "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
    "email": "jon@example.com",
    "created_at": "2025-03-01T10:00:00-05:00",
    "updated_at": "2025-03-01T10:00:05-05:00",
    "cancelled_at": None,
    "closed_at": None,
    "number": 234,
    "name": "#9999",
    "note": None,
    "currency": "USD",
    "presentment_currency": "USD",
    "financial_status": "paid",
    "fulfillment_status": None,
    "taxes_included": False,
    "total_price": "62.00",
    "subtotal_price": "45.00",
    "total_discounts": "5.00",
    "total_line_items_price": "50.00",
    "total_tax": "0.00",
    "discount_codes": [{"code": "TENOFF", "amount": "5.00", "type": "fixed_amount"}],
    "discount_applications": [
        {
            "target_type": "line_item",
            "type": "discount_code",
            "value": "5.0",
            "value_type": "fixed_amount",
            "allocation_method": "across",
            "target_selection": "all",
            "code": "TENOFF",
        }
    ],
    "customer": {
        "id": 115310627314723954,
        "email": "jon@example.com",
        "first_name": "Jon",
        "last_name": "Doe",
        "phone": None,
    },
    "billing_address": {
        "first_name": "Jon",
        "last_name": "Doe",
        "name": "Jon Doe",
        "company": None,
        "address1": "123 Billing Street",
        "address2": None,
        "city": "Billtown",
        "zip": "K2P0B0",
        "province": "Kentucky",
        "province_code": "KY",
        "country": "United States",
        "country_code": "US",
        "phone": "555-555-BILL",
    },
    "shipping_address": {
        "first_name": "Steve",
        "last_name": "Shipper",
        "name": "Steve Shipper",
        "company": "Shipping Company",
        "address1": "123 Shipping Street",
        "address2": None,
        "city": "Shippington",
        "zip": "40003",
        "province": "Kentucky",
        "province_code": "KY",
        "country": "United States",
        "country_code": "US",
        "phone": "555-555-SHIP",
    },
    "line_items": [
        {
            "id": 866550311766439020,
            "variant_id": 808950810,
            "product_id": 632910392,
            "title": "IPod Nano - 8GB",
            "name": "IPod Nano - 8GB",
            "sku": "SKU-1",
            "quantity": 2,
            "price": "20.00",
            "total_discount": "0.00",
            "discount_allocations": [
                {"amount": "5.00", "discount_application_index": 0}
            ],
            "tax_lines": [],
        },
        {
            "id": 141249953214522974,
            "variant_id": 808950811,
            "product_id": 632910392,
            "title": "IPod Nano - 8GB",
            "name": "IPod Nano - 8GB - Pink",
            "sku": "SKU-2",
            "quantity": 1,
            "price": "10.00",
            "discount_allocations": [],
            "tax_lines": [],
        },
    ],
    "shipping_lines": [
        {
            "id": 271878346596884015,
            "title": "Generic Shipping",
            "code": "generic",
            "price": "17.00",
            "discount_allocations": [],
        }
    ],
    "refunds": [],
}


def shopify_order(**overrides):
    payload = copy.deepcopy(SHOPIFY_ORDER)
    payload.update(overrides)
    return payload


SHOPIFY_REFUND = {
    "id": 509562969,
    "order_id": 820982911946154508,
    "created_at": "2025-03-02T10:00:00-05:00",
    "note": "Damaged",
    "refund_line_items": [
        {
            "id": 104689539,
            "line_item_id": 141249953214522974,
            "quantity": 1,
            "restock_type": "cancel",
            "location_id": 24826418,
            "subtotal": 10.0,
            "total_tax": 0.0,
            "line_item": {
                "id": 141249953214522974,
                "variant_id": 808950811,
                "product_id": 632910392,
                "name": "IPod Nano - 8GB - Pink",
                "sku": "SKU-2",
                "quantity": 1,
                "price": "10.00",
            },
        }
    ],
    "order_adjustments": [],
    "transactions": [
        {
            "id": 179259969,
            "order_id": 820982911946154508,
            "kind": "refund",
            "status": "success",
            "amount": "10.00",
            "currency": "USD",
        }
    ],
}

WOO_ORDER = {
    "id": 727,
    "parent_id": 0,
    "number": "727",
    "order_key": "wc_order_58d2d042d1d",
    "created_via": "checkout",
    "status": "processing",
    "currency": "USD",
    "date_created_gmt": "2025-03-01T15:00:00",
    "date_modified_gmt": "2025-03-01T15:00:05",
    "date_paid_gmt": "2025-03-01T15:00:05",
    "discount_total": "3.00",
    "discount_tax": "0.00",
    "shipping_total": "10.00",
    "shipping_tax": "0.00",
    "cart_tax": "0.00",
    "total": "47.00",
    "total_tax": "0.00",
    "prices_include_tax": False,
    "customer_id": 26,
    "customer_note": "",
    "billing": {
        "first_name": "John",
        "last_name": "Doe",
        "company": "",
        "address_1": "969 Market",
        "address_2": "",
        "city": "San Francisco",
        "state": "CA",
        "postcode": "94103",
        "country": "US",
        "email": "john.doe@example.com",
        "phone": "(555) 555-5555",
    },
    "shipping": {
        "first_name": "John",
        "last_name": "Doe",
        "company": "",
        "address_1": "969 Market",
        "address_2": "",
        "city": "San Francisco",
        "state": "CA",
        "postcode": "94103",
        "country": "US",
    },
    "payment_method": "bacs",
    "line_items": [
        {
            "id": 315,
            "name": "Woo Single #1",
            "product_id": 93,
            "variation_id": 0,
            "quantity": 2,
            "tax_class": "",
            "subtotal": "30.00",
            "subtotal_tax": "0.00",
            "total": "27.00",
            "total_tax": "0.00",
            "taxes": [],
            "sku": "SKU-1",
            "price": 13.5,
        },
        {
            "id": 316,
            "name": "Ship Your Idea &ndash; Color: Black",
            "product_id": 22,
            "variation_id": 23,
            "quantity": 1,
            "subtotal": "10.00",
            "subtotal_tax": "0.00",
            "total": "10.00",
            "total_tax": "0.00",
            "sku": "SKU-2",
            "price": 10,
        },
    ],
    "tax_lines": [],
    "shipping_lines": [
        {
            "id": 317,
            "method_title": "Flat Rate",
            "method_id": "flat_rate",
            "total": "10.00",
            "total_tax": "0.00",
            "taxes": [],
        }
    ],
    "fee_lines": [],
    "coupon_lines": [
        {"id": 318, "code": "spring", "discount": "3.00", "discount_tax": "0.00"}
    ],
    "refunds": [],
}


def woo_order(**overrides):
    payload = copy.deepcopy(WOO_ORDER)
    payload.update(overrides)
    return payload


# WooCommerce REST API v3 order ``fee_lines`` items.
WOO_FEE = {
    "id": 319,
    "name": "Gift wrap",
    "tax_class": "",
    "tax_status": "taxable",
    "total": "5.00",
    "total_tax": "0.50",
    "taxes": [{"id": 75, "total": "0.5", "subtotal": ""}],
    "meta_data": [],
}
# A negative fee, as plugins add discounts.
WOO_DISCOUNT_FEE = {
    "id": 320,
    "name": "Loyalty discount",
    "tax_class": "",
    "tax_status": "none",
    "total": "-3.00",
    "total_tax": "0.00",
    "taxes": [],
    "meta_data": [],
}


def woo_fee(**overrides):
    return dict(copy.deepcopy(WOO_FEE), **overrides)


def shopify_money(amount, currency="USD"):
    return {
        "shop_money": {"amount": amount, "currency_code": currency},
        "presentment_money": {"amount": amount, "currency_code": currency},
    }


# A Shopify tip: a line item naming its tip_payment_gateway, with no product.
SHOPIFY_TIP_LINE = {
    "id": 1071823200,
    "admin_graphql_api_id": "gid://shopify/LineItem/1071823200",
    "title": "Tip",
    "name": "Tip",
    "price": "5.00",
    "price_set": shopify_money("5.00"),
    "quantity": 1,
    "sku": None,
    "variant_id": None,
    "product_id": None,
    "requires_shipping": False,
    "taxable": False,
    "gift_card": False,
    "tip_payment_gateway": "shopify_payments",
    "tip_payment_method": "card",
    "discount_allocations": [],
    "duties": [],
    "tax_lines": [],
}
# A duty of a line item (line_items[].duties).
SHOPIFY_DUTY = {
    "id": "2",
    "harmonized_system_code": "520300",
    "country_code_of_origin": "CA",
    "shop_money": {"amount": "8.00", "currency_code": "USD"},
    "presentment_money": {"amount": "8.00", "currency_code": "USD"},
    "tax_lines": [],
    "admin_graphql_api_id": "gid://shopify/Duty/2",
}


def shopify_order_with_tip_and_duties(**overrides):
    """The sample order with a 5.00 tip and 8.00 of duties on its first line."""
    payload = shopify_order(
        total_price="75.00",
        total_tip_received="5.00",
        original_total_duties_set=shopify_money("8.00"),
        current_total_duties_set=shopify_money("8.00"),
    )
    payload["line_items"][0]["duties"] = [copy.deepcopy(SHOPIFY_DUTY)]
    payload["line_items"].append(copy.deepcopy(SHOPIFY_TIP_LINE))
    payload.update(overrides)
    return payload


def stripe_event(event_type, order_id="727", amount=4700, currency="usd"):
    """A Stripe event of a payment intent (``charge.succeeded``: a charge),
    shaped as Stripe's API reference shows it, for a WooCommerce order."""
    kind = "charge" if event_type.startswith("charge.") else "payment_intent"
    obj = {
        "id": ("ch_" if kind == "charge" else "pi_") + "3MtwBwLkdIwHu7ix28a3tqPa",
        "object": kind,
        "amount": amount,
        "currency": currency,
        "status": "succeeded",
        "metadata": {"order_id": order_id} if order_id else {},
    }
    if kind == "payment_intent":
        obj["amount_received"] = amount
    return {
        "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1686089970,
        "type": event_type,
        "data": {"object": obj},
    }
