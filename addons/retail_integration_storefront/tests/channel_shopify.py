"""Shopify GraphQL Admin API (2025-01) behaviour of the stand-in server for
the outbound calls: each handler takes (server, document, variables) and
returns the ``data`` of the answer."""

import re

LOCATION = "gid://shopify/Location/1"
REASONS = {"correction", "cycle_count_available", "received", "restock", "other"}


def _gid(kind, legacy):
    return f"gid://shopify/{kind}/{legacy}"


def shop(server, document, variables):
    return {"shop": {"name": "Stand-in Shop"}}


def locations(server, document, variables):
    return {"locations": {"nodes": [{"id": LOCATION, "name": "Main warehouse"}]}}


def product_variants(server, document, variables):
    nodes = server.shopify_variants
    skus = re.findall(r'sku:"([^"]*)"', variables.get("query") or "")
    if skus:
        nodes = [n for n in nodes if n["sku"] in skus]
    start = int(variables.get("after") or 0)
    first = min(int(variables.get("first") or 50), server.page_size or 250)
    page = []
    for node in nodes[start : start + first]:
        item = node["inventoryItem"]["legacyResourceId"]
        available = server.shopify_inventory.get(
            (_gid("InventoryItem", item), variables.get("location"))
        )
        level = (
            {"quantities": [{"name": "available", "quantity": available}]}
            if available is not None
            else None
        )
        page.append(
            dict(
                node, inventoryItem={"legacyResourceId": item, "inventoryLevel": level}
            )
        )
    more = start + first < len(nodes)
    return {
        "productVariants": {
            "nodes": page,
            "pageInfo": {
                "hasNextPage": more,
                "endCursor": str(start + first) if more else None,
            },
        }
    }


def inventory_set_quantities(server, document, variables):
    data = variables["input"]
    errors = []
    if data.get("name") not in ("available", "on_hand"):
        errors.append({"code": "INVALID_NAME", "field": ["input", "name"]})
    if data.get("reason") not in REASONS:
        errors.append({"code": "INVALID_REASON", "field": ["input", "reason"]})
    known = {
        _gid("InventoryItem", n["inventoryItem"]["legacyResourceId"])
        for n in server.shopify_variants
    }
    changes = []
    for index, quantity in enumerate(data.get("quantities") or []):
        field = ["input", "quantities", str(index)]
        if quantity.get("inventoryItemId") not in known:
            errors.append(
                {
                    "code": "INVALID_INVENTORY_ITEM",
                    "field": [*field, "inventoryItemId"],
                    "message": "The specified inventory item could not be found.",
                }
            )
        elif quantity.get("locationId") != LOCATION:
            errors.append(
                {
                    "code": "INVALID_LOCATION",
                    "field": [*field, "locationId"],
                    "message": "The specified location could not be found.",
                }
            )
        elif (
            not data.get("ignoreCompareQuantity") and "compareQuantity" not in quantity
        ):
            errors.append(
                {
                    "code": "COMPARE_QUANTITY_REQUIRED",
                    "field": [*field, "compareQuantity"],
                    "message": "The compareQuantity argument must be given.",
                }
            )
        else:
            changes.append(quantity)
    for error in errors:
        error.setdefault("message", error["code"].replace("_", " ").capitalize())
    if not errors:  # Shopify applies all the quantities or none
        for quantity in changes:
            key = (quantity["inventoryItemId"], quantity["locationId"])
            server.shopify_inventory[key] = quantity["quantity"]
    return {
        "inventorySetQuantities": {
            "inventoryAdjustmentGroup": None if errors else {"reason": data["reason"]},
            "userErrors": errors,
        }
    }


def _aliases(document):
    return re.findall(r"\b(m\d+):", document)


def variants_bulk_update(server, document, variables):
    data = {}
    for alias in _aliases(document):
        index = alias[1:]
        product = variables[f"productId{index}"]
        errors = []
        for variant in variables[f"variants{index}"]:
            node = next(
                (
                    n
                    for n in server.shopify_variants
                    if _gid("ProductVariant", n["legacyResourceId"]) == variant["id"]
                    and _gid("Product", n["product"]["legacyResourceId"]) == product
                ),
                None,
            )
            if node is None:
                errors.append(
                    {"field": ["variants", "0", "id"], "message": "Variant not found"}
                )
            else:
                node["price"] = variant["price"]
        data[alias] = {"userErrors": errors}
    return data


def product_create(server, document, variables):
    values = variables["product"]
    if not values.get("title"):
        return {
            "productCreate": {
                "product": None,
                "userErrors": [{"field": ["title"], "message": "Title can't be blank"}],
            }
        }
    number = 900 + len(server.shopify_products) + 1
    media = variables.get("media") or []
    if any(
        m.get("mediaContentType") != "IMAGE" or not m.get("originalSource")
        for m in media
    ):
        return {
            "productCreate": {
                "product": None,
                "userErrors": [{"field": ["media"], "message": "Invalid media"}],
            }
        }
    server.shopify_products[_gid("Product", number)] = dict(
        values, id=number, media=media
    )
    return {
        "productCreate": {
            "product": {"id": _gid("Product", number), "legacyResourceId": str(number)},
            "userErrors": [],
        }
    }


def variants_bulk_create(server, document, variables):
    product = server.shopify_products.get(variables["productId"])
    errors = []
    if product is None:
        errors.append({"field": ["productId"], "message": "Product does not exist"})
    options = {
        option["name"]: {value["name"] for value in option["values"]}
        for option in (product or {}).get("productOptions") or []
    }
    known = {n["sku"] for n in server.shopify_variants}
    for index, variant in enumerate(variables["variants"]):
        chosen = {v["optionName"]: v["name"] for v in variant["optionValues"]}
        if set(chosen) != set(options) or any(
            value not in options[name] for name, value in chosen.items()
        ):
            errors.append(
                {"field": ["variants", str(index)], "message": "Option values invalid"}
            )
        if variant["inventoryItem"]["sku"] in known:
            errors.append(
                {"field": ["variants", str(index)], "message": "SKU is taken"}
            )
    if errors:
        return {
            "productVariantsBulkCreate": {"productVariants": None, "userErrors": errors}
        }
    created = []
    for variant in variables["variants"]:
        number = 9000 + len(server.shopify_variants) + 1
        node = {
            "legacyResourceId": str(number),
            "sku": variant["inventoryItem"]["sku"],
            "price": variant["price"],
            "barcode": variant.get("barcode"),
            "compareAtPrice": variant.get("compareAtPrice"),
            "product": {
                "legacyResourceId": str(product["id"]),
                "title": product["title"],
                "status": product.get("status", "ACTIVE"),
            },
            "inventoryItem": {"legacyResourceId": str(number + 50000)},
        }
        server.shopify_variants.append(node)
        created.append(node)
    return {"productVariantsBulkCreate": {"productVariants": created, "userErrors": []}}


def product_update(server, document, variables):
    data = {}
    for alias in _aliases(document):
        values = variables[f"product{alias[1:]}"]
        nodes = [
            n
            for n in server.shopify_variants
            if _gid("Product", n["product"]["legacyResourceId"]) == values["id"]
        ]
        for node in nodes:
            node["product"]["title"] = values.get("title", node["product"]["title"])
            node["product"]["status"] = values.get("status", node["product"]["status"])
        errors = (
            [] if nodes else [{"field": ["id"], "message": "Product does not exist"}]
        )
        data[alias] = {"userErrors": errors}
    return data


def order(server, document, variables):
    legacy = variables["id"].rsplit("/", 1)[-1]
    found = [o for o in server.shopify_orders if str(o["legacyResourceId"]) == legacy]
    return {"order": found[0] if found else None}


def fulfillment_orders(server, document, variables):
    orders = server.shopify_fulfillment_orders.get(variables["id"])
    if orders is None:
        return {"order": None}
    return {"order": {"fulfillmentOrders": {"nodes": orders}}}


def _location_of(order):
    return ((order.get("assignedLocation") or {}).get("location") or {}).get("id")


def _fulfillment_refused(message):
    return {
        "fulfillmentCreate": {
            "fulfillment": None,
            "userErrors": [{"field": ["fulfillment"], "message": message}],
        }
    }


def fulfillment_create(server, document, variables):
    """One fulfilment of fulfilment orders of one location: a fulfilment order
    fulfilled to the last unit is closed, a partly fulfilled one in progress."""
    fulfillment = variables["fulfillment"]
    by_id = {
        order["id"]: order
        for orders in server.shopify_fulfillment_orders.values()
        for order in orders
    }
    entries = fulfillment["lineItemsByFulfillmentOrder"]
    orders = [by_id.get(entry["fulfillmentOrderId"]) for entry in entries]
    if not all(o and o["status"] in ("OPEN", "IN_PROGRESS") for o in orders):
        return _fulfillment_refused("Fulfillment order is not open.")
    if len({_location_of(order) for order in orders}) > 1:
        return _fulfillment_refused(
            "All fulfillment orders must be assigned to a single location."
        )
    todo = []
    for entry, order in zip(entries, orders, strict=True):
        lines = {line["id"]: line for line in order["lineItems"]["nodes"]}
        for item in entry.get("fulfillmentOrderLineItems") or [
            {"id": i, "quantity": line["remainingQuantity"]}
            for i, line in lines.items()
        ]:
            line = lines.get(item["id"])
            if not line or not 0 < item["quantity"] <= line["remainingQuantity"]:
                return _fulfillment_refused(
                    "Invalid fulfillment order line item quantity requested."
                )
            todo.append((line, item["quantity"]))
    for line, quantity in todo:
        line["remainingQuantity"] -= quantity
    for order in orders:
        remaining = [line["remainingQuantity"] for line in order["lineItems"]["nodes"]]
        order["status"] = "IN_PROGRESS" if any(remaining) else "CLOSED"
    server.shopify_fulfillments.append(fulfillment)
    fulfillment_id = f"gid://shopify/Fulfillment/{len(server.shopify_fulfillments)}"
    return {
        "fulfillmentCreate": {
            "fulfillment": {"id": fulfillment_id, "status": "SUCCESS"},
            "userErrors": [],
        }
    }


def order_fulfillments(server, document, variables):
    """The fulfilments made of the order's fulfilment orders; DELIVERED once
    a delivered event was created on them."""
    if variables["id"] not in server.shopify_fulfillment_orders:
        return {"order": None}
    own = {fo["id"] for fo in server.shopify_fulfillment_orders[variables["id"]]}
    nodes = []
    for index, fulfillment in enumerate(server.shopify_fulfillments, 1):
        entries = fulfillment["lineItemsByFulfillmentOrder"]
        if not any(entry["fulfillmentOrderId"] in own for entry in entries):
            continue
        fulfillment_id = f"gid://shopify/Fulfillment/{index}"
        number = (fulfillment.get("trackingInfo") or {}).get("number")
        nodes.append(
            {
                "id": fulfillment_id,
                "displayStatus": "DELIVERED"
                if fulfillment_id in server.shopify_delivered
                else "FULFILLED",
                "trackingInfo": [{"number": number}] if number else [],
            }
        )
    return {"order": {"fulfillments": nodes}}


def fulfillment_event_create(server, document, variables):
    event = variables["fulfillmentEvent"]
    known = len(server.shopify_fulfillments)
    number = event["fulfillmentId"].rsplit("/", 1)[-1]
    if not number.isdigit() or not 0 < int(number) <= known:
        return {
            "fulfillmentEventCreate": {
                "fulfillmentEvent": None,
                "userErrors": [{"field": ["fulfillmentId"], "message": "Not found"}],
            }
        }
    server.shopify_delivered.append(event["fulfillmentId"])
    return {
        "fulfillmentEventCreate": {
            "fulfillmentEvent": {
                "id": f"gid://shopify/FulfillmentEvent/{len(server.shopify_delivered)}",
                "status": event["status"],
            },
            "userErrors": [],
        }
    }


def webhook_create(server, document, variables):
    """``server.shopify_webhooks`` holds ``{id, topic, url}``."""
    topic = variables["topic"]
    url = variables["webhookSubscription"]["callbackUrl"]
    hooks = server.shopify_webhooks
    if any(h["topic"] == topic and h["url"] == url for h in hooks):
        return {
            "webhookSubscriptionCreate": {
                "webhookSubscription": None,
                "userErrors": [
                    {
                        "field": ["callbackUrl"],
                        "message": "Address for this topic has already been taken",
                    }
                ],
            }
        }
    number = max((int(h["id"].rsplit("/", 1)[-1]) for h in hooks), default=0) + 1
    hook = {"id": _gid("WebhookSubscription", number), "topic": topic, "url": url}
    hooks.append(hook)
    return {
        "webhookSubscriptionCreate": {
            "webhookSubscription": {"id": hook["id"]},
            "userErrors": [],
        }
    }


def webhook_subscriptions(server, document, variables):
    """The app's subscriptions (all to HTTP endpoints here), a page of the
    query's ``first`` (a literal in the connector's query) at a time."""
    hooks = server.shopify_webhooks
    start = int(variables.get("after") or 0)
    first = int(re.search(r"\bfirst: (\d+)", document).group(1))
    first = min(first, server.page_size or 250)
    more = start + first < len(hooks)
    return {
        "webhookSubscriptions": {
            "nodes": [
                {
                    "id": h["id"],
                    "topic": h["topic"],
                    "endpoint": {
                        "__typename": "WebhookHttpEndpoint",
                        "callbackUrl": h["url"],
                    },
                }
                for h in hooks[start : start + first]
            ],
            "pageInfo": {
                "hasNextPage": more,
                "endCursor": str(start + first) if more else None,
            },
        }
    }


def webhook_delete(server, document, variables):
    hooks = server.shopify_webhooks
    hook = next((h for h in hooks if h["id"] == variables["id"]), None)
    if hook:
        hooks.remove(hook)
    errors = (
        []
        if hook
        else [{"field": ["id"], "message": "Webhook subscription does not exist"}]
    )
    return {
        "webhookSubscriptionDelete": {
            "deletedWebhookSubscriptionId": hook and hook["id"],
            "userErrors": errors,
        }
    }


# First match wins: the word is looked for in the GraphQL document.
def _connection(nodes, variables):
    start = int(variables.get("after") or 0)
    first = min(int(variables.get("first") or 50), 250)
    more = start + first < len(nodes)
    return {
        "nodes": nodes[start : start + first],
        "pageInfo": {
            "hasNextPage": more,
            "endCursor": str(start + first) if more else None,
        },
    }


def _payments_account(server, field, nodes, variables):
    """``shopifyPaymentsAccount`` is null when the shop has no Shopify
    Payments account."""
    if not server.shopify_payments:
        return {"shopifyPaymentsAccount": None}
    return {"shopifyPaymentsAccount": {field: _connection(nodes, variables)}}


def payouts(server, document, variables):
    """``payouts(query:)``, newest first, with the ``status`` and
    ``issued_at:>=`` filters."""
    query = variables.get("query") or ""
    nodes = sorted(server.shopify_payouts, key=lambda p: p["issuedAt"], reverse=True)
    status = re.search(r"status:(\w+)", query)
    if status:
        nodes = [p for p in nodes if p["status"] == status.group(1).upper()]
    since = re.search(r"issued_at:>=(\S+)", query)
    if since:
        nodes = [p for p in nodes if p["issuedAt"][:10] >= since.group(1)]
    return _payments_account(server, "payouts", nodes, variables)


def balance_transactions(server, document, variables):
    """``balanceTransactions(query: "payments_transfer_id:<payout>")``: the
    payout's transactions, its own ``PAYOUT`` one included."""
    match = re.search(r"payments_transfer_id:(\d+)", variables.get("query") or "")
    nodes = server.shopify_balance.get(match.group(1), []) if match else []
    return _payments_account(server, "balanceTransactions", nodes, variables)


def price_list_fixed_prices_add(server, document, variables):
    """``priceListFixedPricesAdd``: adds or replaces fixed prices of a price
    list (``server.shopify_price_lists``: {gid: {"currency", "prices":
    {variant gid: price input}}}); a price in another currency than the
    list's, or of an unknown variant, is refused with the list's index."""
    price_list = server.shopify_price_lists.get(variables.get("priceListId"))
    if price_list is None:
        errors = [
            {
                "field": ["priceListId"],
                "code": "PRICE_LIST_NOT_FOUND",
                "message": "The price list doesn't exist.",
            }
        ]
        return {"priceListFixedPricesAdd": {"prices": None, "userErrors": errors}}
    known = {
        _gid("ProductVariant", n["legacyResourceId"]) for n in server.shopify_variants
    }
    errors, added = [], []
    for index, price in enumerate(variables.get("prices") or []):
        if price["price"]["currencyCode"] != price_list["currency"]:
            errors.append(
                {
                    "field": ["prices", str(index), "price", "currencyCode"],
                    "code": "PRICE_LIST_CURRENCY_MISMATCH",
                    "message": "The specified currency doesn't match the price "
                    "list's currency.",
                }
            )
        elif price["variantId"] not in known:
            errors.append(
                {
                    "field": ["prices", str(index), "variantId"],
                    "code": "VARIANT_NOT_FOUND",
                    "message": "The product variant doesn't exist.",
                }
            )
        else:
            price_list["prices"][price["variantId"]] = price["price"]
            added.append(
                {"variant": {"id": price["variantId"]}, "price": price["price"]}
            )
    return {"priceListFixedPricesAdd": {"prices": added, "userErrors": errors}}


HANDLERS = (
    ("priceListFixedPricesAdd", price_list_fixed_prices_add),
    ("balanceTransactions(", balance_transactions),
    ("payouts(", payouts),
    ("inventorySetQuantities", inventory_set_quantities),
    ("productVariantsBulkUpdate", variants_bulk_update),
    ("productUpdate", product_update),
    ("productCreate(", product_create),
    ("productVariantsBulkCreate", variants_bulk_create),
    ("fulfillmentCreate", fulfillment_create),
    ("fulfillmentEventCreate", fulfillment_event_create),
    ("fulfillments(", order_fulfillments),
    ("fulfillmentOrders(", fulfillment_orders),
    ("query Order(", order),
    ("webhookSubscriptionCreate", webhook_create),
    ("webhookSubscriptionDelete", webhook_delete),
    ("webhookSubscriptions(", webhook_subscriptions),
    ("productVariants(", product_variants),
    ("locations(", locations),
    ("shop {", shop),
)
