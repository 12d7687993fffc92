"""A small client of Shopify's GraphQL Admin API: orders in; stock, prices,
products, fulfilments and webhooks out."""

import time

import requests

from odoo.addons.retail_integration.lib.api_errors import ApiError, Throttled
from odoo.addons.retail_integration.lib.api_http import read_json, send

from .graphql_order import shopify_graphql_order
from .listing import listing_key, shopify_item
from .payouts import paid_deposit, shopify_balance_line, shopify_payout
from .queries import (
    BALANCE_TRANSACTIONS_QUERY,
    FULFILLMENT_CREATE,
    FULFILLMENT_EVENT_CREATE,
    FULFILLMENT_ORDERS_QUERY,
    LOCATIONS_QUERY,
    ORDER_FULFILLMENTS_QUERY,
    ORDER_QUERY,
    ORDERS_QUERY,
    PAYOUTS_QUERY,
    PRICE_LIST_FIXED_PRICES_ADD,
    PRODUCT_CREATE,
    PRODUCT_VARIANTS_CREATE,
    SET_QUANTITIES,
    VARIANTS_QUERY,
    WEBHOOK_CREATE,
    WEBHOOK_DELETE,
    WEBHOOKS_QUERY,
)

PAGE_SIZE = 50
MAX_PAGES = 200
SKU_CHUNK = 50
VARIANT_PAGE = 100
QUANTITIES_CHUNK = 250
MUTATION_CHUNK = 25
# The longest a call waits for Shopify's cost bucket to refill before the
# next; a longer wait is left to the next call's throttled answer (the job retries).
MAX_PACE_SECONDS = 5
# Fulfilment orders Shopify lets a merchant fulfil.
OPEN_FULFILLMENT_STATUSES = ("OPEN", "IN_PROGRESS")


class ShopifyClient:
    def __init__(self, shop_url, access_token, version, session=None):
        self.url = f"{shop_url.rstrip('/')}/admin/api/{version}/graphql.json"
        self.token = access_token
        self.session = session or requests.Session()
        self.sleep = time.sleep

    def graphql(self, query, variables=None):
        response = send(
            self.session,
            "POST",
            self.url,
            json={"query": query, "variables": variables or {}},
            headers={
                "X-Shopify-Access-Token": self.token,
                "Content-Type": "application/json",
            },
        )
        answer = read_json(response)
        errors = answer.get("errors")
        if errors:
            if any(
                (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors
            ):
                raise Throttled("Shopify throttled the query", shopify_wait(answer))
            raise ApiError("; ".join(str(e.get("message", e)) for e in errors)[:500])
        # Pace on the bucket: when what is left would not pay for another
        # query like this one, wait until it would, rather than be throttled.
        wait = shopify_wait(answer)
        if wait:
            self.sleep(min(wait, MAX_PACE_SECONDS))
        return answer

    def orders_since(self, since):
        """Every order updated after ``since`` (naive UTC), oldest first, as
        the REST-shaped dicts Shopify's order webhooks carry."""
        query = (
            f"updated_at:>'{since.strftime('%Y-%m-%dT%H:%M:%SZ')}'" if since else None
        )
        for node in self._nodes(
            ORDERS_QUERY, "orders", {"first": PAGE_SIZE, "query": query}
        ):
            yield shopify_graphql_order(node)

    def order(self, order_id):
        """One order, as ``orders_since`` gives it; None if Shopify has none."""
        answer = self.graphql(ORDER_QUERY, {"id": gid("Order", order_id)})
        node = answer["data"].get("order")
        return shopify_graphql_order(node) if node else None

    def _nodes(self, query, field, variables=None):
        """The nodes of the connection ``field`` (a dotted path) that
        ``query`` reads, page after page (the query takes ``$after``)."""
        after = None
        for _page in range(MAX_PAGES):
            answer = self.graphql(query, {**(variables or {}), "after": after})
            connection = answer["data"]
            for key in field.split("."):
                connection = (connection or {}).get(key)
            if connection is None:
                raise ApiError(f"Shopify answered without {field}.")
            yield from connection["nodes"]
            if not connection["pageInfo"]["hasNextPage"]:
                return
            after = connection["pageInfo"]["endCursor"]

    def payouts(self, since):
        """The Shopify Payments payouts paid to the bank and issued on or
        after ``since`` (a date)."""
        query = "status:paid" + (f" issued_at:>={since.isoformat()}" if since else "")
        for index, node in enumerate(
            self._nodes(
                PAYOUTS_QUERY,
                "shopifyPaymentsAccount.payouts",
                {"first": PAGE_SIZE, "query": query},
            )
        ):
            if paid_deposit(node):
                yield shopify_payout(node, index)

    def payout_lines(self, payout_id):
        """The balance transactions payout ``payout_id`` settles, but its own."""
        for index, node in enumerate(
            self._nodes(
                BALANCE_TRANSACTIONS_QUERY,
                "shopifyPaymentsAccount.balanceTransactions",
                {
                    "first": VARIANT_PAGE,
                    "query": f"payments_transfer_id:{int(payout_id)}",
                },
            )
        ):
            line = shopify_balance_line(node, index)
            if line:
                yield line

    # Outbound (stock, prices, products, fulfilments) ---------------------

    def shop_name(self):
        return self.graphql("{ shop { name } }")["data"]["shop"]["name"]

    def primary_location(self):
        """The id of the shop's first location (where stock is published)."""
        nodes = self.graphql(LOCATIONS_QUERY)["data"]["locations"]["nodes"]
        if not nodes:
            raise ApiError("The shop has no location to publish stock to.")
        return nodes[0]["id"]

    def variants(self, location_id, skus=None):
        """The shop's variants (those with one of ``skus`` if given) as
        channel items: ids, SKU, price, available quantity at the location,
        product title and status."""
        if skus is not None:
            skus = [s for s in skus if s and '"' not in s and "\\" not in s]
            for start in range(0, len(skus), SKU_CHUNK):
                chunk = skus[start : start + SKU_CHUNK]
                query = " OR ".join(f'sku:"{sku}"' for sku in chunk)
                yield from self._variants(location_id, query)
            return
        yield from self._variants(location_id, None)

    def _variants(self, location_id, query):
        variables = {"first": VARIANT_PAGE, "query": query, "location": location_id}
        for node in self._nodes(VARIANTS_QUERY, "productVariants", variables):
            yield shopify_item(node)

    def set_available(self, location_id, quantities, reason="correction"):
        """Set the available quantity of ``[(inventory item id, quantity)]`` at
        the location, in one ``inventorySetQuantities`` per 250. Returns
        ``{index: message}`` of the quantities Shopify refused."""
        refused = {}
        for start in range(0, len(quantities), QUANTITIES_CHUNK):
            chunk = quantities[start : start + QUANTITIES_CHUNK]
            answer = self.graphql(
                SET_QUANTITIES,
                {
                    "input": {
                        "name": "available",
                        "reason": reason,
                        "ignoreCompareQuantity": True,
                        "quantities": [
                            {
                                "inventoryItemId": gid("InventoryItem", item),
                                "locationId": location_id,
                                "quantity": int(quantity),
                            }
                            for item, quantity in chunk
                        ],
                    }
                },
            )
            errors = answer["data"]["inventorySetQuantities"]["userErrors"]
            for index, message in user_error_indexes(errors, "quantities").items():
                if index is None:  # not about one quantity: all of them
                    refused.update({start + i: message for i in range(len(chunk))})
                else:
                    refused[start + index] = message
        return refused

    def _aliased(self, mutation, items):
        """Run ``mutation`` once per item in one request (GraphQL aliases);
        ``{index: message}`` of the items refused."""
        if not items:
            return {}
        declarations, fields_, variables = [], [], {}
        for index, (arguments, values) in enumerate(items):
            names = {}
            for name, (gql_type, value) in values.items():
                var = f"{name}{index}"
                declarations.append(f"${var}: {gql_type}")
                variables[var] = value
                names[name] = var
            args = ", ".join(f"{arg}: ${names[arg]}" for arg in arguments)
            fields_.append(
                f"m{index}: {mutation}({args}) {{ userErrors {{ message }} }}"
            )
        document = (
            f"mutation Batch({', '.join(declarations)}) {{\n  "
            + "\n  ".join(fields_)
            + "\n}"
        )
        data = self.graphql(document, variables)["data"]
        refused = {}
        for index in range(len(items)):
            errors = (data.get(f"m{index}") or {}).get("userErrors") or []
            if errors:
                refused[index] = "; ".join(e.get("message", "") for e in errors)
        return refused

    def update_prices(self, prices):
        """``[(product id, variant id, price)]``; one
        ``productVariantsBulkUpdate`` per product, all in one request.
        Returns ``{index: message}`` of the prices refused."""
        by_product = {}
        for index, (product, variant, price) in enumerate(prices):
            by_product.setdefault(product, []).append((index, variant, price))
        products = list(by_product)
        items = [
            (
                ("productId", "variants"),
                {
                    "productId": ("ID!", gid("Product", product)),
                    "variants": (
                        "[ProductVariantsBulkInput!]!",
                        [
                            {"id": gid("ProductVariant", variant), "price": price}
                            for _i, variant, price in by_product[product]
                        ],
                    ),
                },
            )
            for product in products
        ]
        refused = {}
        for start in range(0, len(items), MUTATION_CHUNK):
            failed = self._aliased(
                "productVariantsBulkUpdate", items[start : start + MUTATION_CHUNK]
            )
            for offset, message in failed.items():
                for index, _v, _p in by_product[products[start + offset]]:
                    refused[index] = message
        return refused

    def set_price_list_prices(self, price_list, currency, prices):
        """``[(variant id, price)]`` as fixed prices in ``currency`` of the
        price list ``price_list`` (``priceListFixedPricesAdd``, which adds or
        replaces: a retry sets the same prices again), 250 a call. Returns
        ``{index: message}`` of the prices refused."""
        refused = {}
        for start in range(0, len(prices), QUANTITIES_CHUNK):
            chunk = prices[start : start + QUANTITIES_CHUNK]
            answer = self.graphql(
                PRICE_LIST_FIXED_PRICES_ADD,
                {
                    "priceListId": price_list,
                    "prices": [
                        {
                            "variantId": gid("ProductVariant", variant),
                            "price": {"amount": price, "currencyCode": currency},
                        }
                        for variant, price in chunk
                    ],
                },
            )
            errors = (answer["data"].get("priceListFixedPricesAdd") or {}).get(
                "userErrors"
            )
            for index, message in user_error_indexes(errors, "prices").items():
                if index is None:  # about the price list: all of them
                    refused.update({start + i: message for i in range(len(chunk))})
                else:
                    refused[start + index] = message
        return refused

    def update_products(self, products):
        """``[(product id, title, active)]``: ``productUpdate`` title and status
        (ACTIVE or ARCHIVED), all in one request. ``{index: message}`` refused."""
        items = [
            (
                ("product",),
                {
                    "product": (
                        "ProductUpdateInput!",
                        {
                            "id": gid("Product", product),
                            "title": title,
                            "status": "ACTIVE" if active else "ARCHIVED",
                        },
                    )
                },
            )
            for product, title, active in products
        ]
        refused = {}
        for start in range(0, len(items), MUTATION_CHUNK):
            failed = self._aliased(
                "productUpdate", items[start : start + MUTATION_CHUNK]
            )
            refused.update({start + i: m for i, m in failed.items()})
        return refused

    def create_product(self, product):
        """``productCreate`` with its options and images (Shopify fetches
        each ``originalSource``), then its variants in one
        ``productVariantsBulkCreate`` that replaces the standalone variant
        Shopify makes (a product without options has the one option *Title*).
        The channel items of the variants."""
        options = product.options or (("Title", ("Default Title",)),)
        values = {
            "title": product.title,
            "descriptionHtml": product.description,
            "vendor": product.vendor,
            "tags": list(product.tags),
            "status": "ACTIVE" if product.active else "DRAFT",
            "productOptions": [
                {"name": name, "values": [{"name": v} for v in option_values]}
                for name, option_values in options
            ],
        }
        media = [
            {"originalSource": url, "mediaContentType": "IMAGE", "alt": product.title}
            for url in product.images
        ]
        created = self._user_result(
            self.graphql(PRODUCT_CREATE, {"product": values, "media": media}),
            "productCreate",
        )["product"]
        variants = [
            {
                "price": variant.price,
                "compareAtPrice": variant.compare_at_price or None,
                "barcode": variant.barcode or None,
                "optionValues": [
                    {"optionName": name, "name": value}
                    for name, value in (
                        variant.options or (("Title", "Default Title"),)
                    )
                ],
                "inventoryItem": {
                    "sku": variant.sku,
                    "tracked": True,
                    "measurement": {
                        "weight": {"value": variant.weight, "unit": "KILOGRAMS"}
                    },
                },
            }
            for variant in product.variants
        ]
        answer = self.graphql(
            PRODUCT_VARIANTS_CREATE,
            {
                "productId": created["id"],
                "variants": variants,
                "strategy": "REMOVE_STANDALONE_VARIANT",
            },
        )
        nodes = self._user_result(answer, "productVariantsBulkCreate")[
            "productVariants"
        ]
        return [
            {
                "sku": node.get("sku") or "",
                "key": listing_key(
                    created["legacyResourceId"],
                    node["legacyResourceId"],
                    node["inventoryItem"]["legacyResourceId"],
                ),
            }
            for node in nodes
        ]

    def _user_result(self, answer, field):
        """The result of mutation ``field``; its user errors as an ApiError."""
        result = answer["data"][field]
        if result.get("userErrors"):
            raise ApiError(
                "; ".join(e.get("message", "") for e in result["userErrors"]), 422
            )
        return result

    def fulfillment_orders(self, order_id):
        answer = self.graphql(FULFILLMENT_ORDERS_QUERY, {"id": gid("Order", order_id)})
        order = answer["data"]["order"]
        if not order:
            raise ApiError(f"Shopify has no order {order_id}.", 404)
        return order["fulfillmentOrders"]["nodes"]

    def fulfil(self, order_id, shipped, tracking):
        """Create the fulfilments of what was shipped (``[(sku, variant id,
        quantity)]``) with its tracking (``{company, number, url}``), after
        reading the order's open fulfilment orders as Shopify requires: one
        ``fulfillmentCreate`` per assigned location, as Shopify takes only
        fulfilment orders of one location in one fulfilment. Returns the
        fulfilments' ids (none if nothing was left to fulfil). Fulfilment
        orders fulfilled before are closed, so a retry after a partial
        success creates only the fulfilments still missing."""
        by_location = fulfilment_lines(self.fulfillment_orders(order_id), shipped)
        created = []
        for location, by_order in by_location.items():
            fulfillment = {
                "lineItemsByFulfillmentOrder": by_order,
                "notifyCustomer": True,
                "trackingInfo": {k: v for k, v in tracking.items() if v},
            }
            answer = self.graphql(FULFILLMENT_CREATE, {"fulfillment": fulfillment})
            result = answer["data"]["fulfillmentCreate"]
            if result["userErrors"]:
                message = "; ".join(e.get("message", "") for e in result["userErrors"])
                done = f" (created before: {', '.join(created)})" if created else ""
                raise ApiError(f"Location {location}: {message}{done}")
            created.append(result["fulfillment"]["id"])
        return created

    def mark_delivered(self, order_id, tracking_numbers):
        """A DELIVERED event on each fulfilment of the order shipped under one
        of ``tracking_numbers`` (all of them if none is given) that does not
        show delivered yet; the fulfilments marked."""
        answer = self.graphql(ORDER_FULFILLMENTS_QUERY, {"id": gid("Order", order_id)})
        order = answer["data"].get("order")
        if not order:
            raise ApiError(f"Shopify has no order {order_id}.", 404)
        marked = []
        for fulfillment in order["fulfillments"]:
            numbers = {t.get("number") for t in fulfillment.get("trackingInfo") or []}
            if tracking_numbers and not numbers & set(tracking_numbers):
                continue
            if fulfillment.get("displayStatus") == "DELIVERED":
                continue
            event = {"fulfillmentId": fulfillment["id"], "status": "DELIVERED"}
            result = self.graphql(FULFILLMENT_EVENT_CREATE, {"fulfillmentEvent": event})
            errors = result["data"]["fulfillmentEventCreate"]["userErrors"]
            if errors:
                raise ApiError("; ".join(e.get("message", "") for e in errors))
            marked.append(fulfillment["id"])
        return marked

    def create_webhook(self, topic, url):
        answer = self.graphql(
            WEBHOOK_CREATE,
            {
                "topic": topic,
                "webhookSubscription": {"callbackUrl": url, "format": "JSON"},
            },
        )
        result = answer["data"]["webhookSubscriptionCreate"]
        errors = result["userErrors"]
        if errors:
            message = "; ".join(e.get("message", "") for e in errors)
            if "already been taken" in message:  # registered before: fine
                return None
            raise ApiError(message)
        return result["webhookSubscription"]["id"]

    def webhooks(self):
        """Every webhook subscription of the app, as ``{id, topic, url}``
        (``url`` None for an EventBridge or Pub/Sub endpoint)."""
        for node in self._nodes(WEBHOOKS_QUERY, "webhookSubscriptions"):
            endpoint = node.get("endpoint") or {}
            yield {
                "id": node["id"],
                "topic": node.get("topic"),
                "url": endpoint.get("callbackUrl"),
            }

    def delete_webhook(self, webhook_id):
        """Delete a webhook subscription; one already gone counts as deleted."""
        answer = self.graphql(WEBHOOK_DELETE, {"id": webhook_id})
        errors = answer["data"]["webhookSubscriptionDelete"]["userErrors"]
        message = "; ".join(e.get("message", "") for e in errors)
        if errors and "does not exist" not in message:
            raise ApiError(message)


def gid(kind, legacy_id):
    """``gid://shopify/<kind>/<id>`` (an id already in that form is kept)."""
    text = str(legacy_id)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def user_error_indexes(errors, list_field):
    """``{index in the input list (None: all): message}`` of a mutation's
    userErrors, read from their ``field`` path (``["input", "quantities",
    "3", "quantity"]``)."""
    refused = {}
    for error in errors or []:
        path = error.get("field") or []
        index = None
        if list_field in path:
            position = path.index(list_field) + 1
            if position < len(path) and str(path[position]).isdigit():
                index = int(path[position])
        message = error.get("message") or str(error)
        refused[index] = f"{refused[index]}; {message}" if index in refused else message
    return refused


def fulfilment_lines(fulfillment_orders, shipped):
    """``{location id: lineItemsByFulfillmentOrder}`` for what was shipped:
    each ``(sku, variant id, quantity)`` takes from the open fulfilment order
    lines of the same variant (else SKU) what they still have to fulfil; the
    fulfilment orders are grouped by their assigned location."""
    todo = [[sku, str(variant or ""), quantity] for sku, variant, quantity in shipped]
    by_location = {}
    for order in fulfillment_orders:
        if order.get("status") not in OPEN_FULFILLMENT_STATUSES:
            continue
        lines = []
        for line in (order.get("lineItems") or {}).get("nodes") or []:
            remaining = int(line.get("remainingQuantity") or 0)
            line_variant = str(
                (line.get("variant") or {}).get("legacyResourceId") or ""
            )
            for item in todo:
                if remaining <= 0:
                    break
                sku, variant, quantity = item
                same = (variant and variant == line_variant) or (
                    sku and sku == line.get("sku")
                )
                if not same or quantity <= 0:
                    continue
                take = int(min(remaining, quantity))
                if take <= 0:
                    continue
                lines.append({"id": line["id"], "quantity": take})
                item[2] -= take
                remaining -= take
        if lines:
            assigned = (order.get("assignedLocation") or {}).get("location") or {}
            by_location.setdefault(assigned.get("id"), []).append(
                {"fulfillmentOrderId": order["id"], "fulfillmentOrderLineItems": lines}
            )
    return by_location


def shopify_wait(answer):
    """Seconds until the query's cost is available again (Shopify's leaky bucket)."""
    cost = (answer.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    needed = float(cost.get("requestedQueryCost") or 0) - float(
        status.get("currentlyAvailable") or 0
    )
    rate = float(status.get("restoreRate") or 50)
    return max(needed, 0) / rate if rate > 0 else 2.0
