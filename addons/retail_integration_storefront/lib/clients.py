"""Small clients of the channels' order APIs, and what their answers mean.

``Throttled`` and ``Unavailable`` pass by themselves (the caller retries
later); ``ApiError`` does not (credentials, permissions, a bad query).
"""

import html
import math

import requests

from odoo.addons.retail_integration.lib.text import storable_bytes, storable_tree

from .listing import listing_key

TIMEOUT = 30
PAGE_SIZE = 50
MAX_PAGES = 200


class ApiError(Exception):
    """The channel refused the request for a reason that will not pass by itself."""

    status = 400

    def __init__(self, message, status=None):
        super().__init__(message)
        if status is not None:
            self.status = status


class Throttled(ApiError):
    status = 429

    def __init__(self, message, retry_after):
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


class Unavailable(ApiError):
    """A 5xx or a broken connection: worth retrying."""

    status = 503


def _retry_after(response, default=2.0):
    try:
        return float(response.headers.get("Retry-After", default))
    except ValueError:
        return default


def _check(response):
    if response.status_code == 429:
        raise Throttled("HTTP 429 Too Many Requests", _retry_after(response))
    if response.status_code >= 500:
        raise Unavailable(
            f"HTTP {response.status_code} from the channel", response.status_code
        )
    if response.status_code >= 400:
        raise ApiError(
            f"HTTP {response.status_code}: {storable_bytes(response.content, 200)}",
            response.status_code,
        )
    try:
        # What the channel sends ends up in columns: no NUL, no lone surrogate.
        return storable_tree(response.json())
    except ValueError as err:
        raise Unavailable(
            "The channel answered with something that is not JSON."
        ) from err


def _send(session, method, url, **kwargs):
    try:
        return session.request(method, url, timeout=TIMEOUT, **kwargs)
    except (requests.ConnectionError, requests.Timeout) as err:
        raise Unavailable(f"Cannot reach {url.split('?')[0]}: {err}", 0) from err


# Shopify GraphQL Admin API ---------------------------------------------------

MONEY = "shopMoney { amount }"
ADDRESS = (
    "name firstName lastName company address1 address2 city zip provinceCode "
    "countryCodeV2 phone"
)
ALLOCATIONS = f"""discountAllocations {{
    allocatedAmountSet {{ {MONEY} }}
    discountApplication {{
        ... on DiscountCodeApplication {{ code }}
        ... on ManualDiscountApplication {{ title }}
    }}
}}"""
ORDERS_QUERY = f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      legacyResourceId name email note updatedAt cancelledAt closedAt
      displayFinancialStatus taxesIncluded currencyCode
      totalPriceSet {{ {MONEY} }}
      totalTipReceivedSet {{ {MONEY} }}
      originalTotalDutiesSet {{ {MONEY} }}
      currentTotalDutiesSet {{ {MONEY} }}
      customer {{ legacyResourceId email firstName lastName phone }}
      billingAddress {{ {ADDRESS} }}
      shippingAddress {{ {ADDRESS} }}
      lineItems(first: 250) {{ nodes {{
        id name sku quantity variant {{ legacyResourceId }}
        originalUnitPriceSet {{ {MONEY} }}
        {ALLOCATIONS}
      }} }}
      shippingLines(first: 20) {{ nodes {{
        title code originalPriceSet {{ {MONEY} }}
        {ALLOCATIONS}
      }} }}
    }}
  }}
}}
"""


class ShopifyClient:
    def __init__(self, shop_url, access_token, version, session=None):
        self.url = f"{shop_url.rstrip('/')}/admin/api/{version}/graphql.json"
        self.token = access_token
        self.session = session or requests.Session()

    def graphql(self, query, variables=None):
        response = _send(
            self.session,
            "POST",
            self.url,
            json={"query": query, "variables": variables or {}},
            headers={
                "X-Shopify-Access-Token": self.token,
                "Content-Type": "application/json",
            },
        )
        answer = _check(response)
        errors = answer.get("errors")
        if errors:
            if any(
                (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors
            ):
                raise Throttled("Shopify throttled the query", shopify_wait(answer))
            raise ApiError("; ".join(str(e.get("message", e)) for e in errors)[:500])
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

    def _nodes(self, query, field, variables=None):
        """The nodes of the connection ``field`` that ``query`` reads, page
        after page (the query takes ``$after``)."""
        after = None
        for _page in range(MAX_PAGES):
            answer = self.graphql(query, {**(variables or {}), "after": after})
            connection = answer["data"][field]
            yield from connection["nodes"]
            if not connection["pageInfo"]["hasNextPage"]:
                return
            after = connection["pageInfo"]["endCursor"]

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


SKU_CHUNK = 50
VARIANT_PAGE = 100
QUANTITIES_CHUNK = 250
MUTATION_CHUNK = 25

LOCATIONS_QUERY = "{ locations(first: 1) { nodes { id name } } }"
VARIANTS_QUERY = """
query Variants($first: Int!, $after: String, $query: String, $location: ID!) {
  productVariants(first: $first, after: $after, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes {
      legacyResourceId sku price
      product { legacyResourceId title status }
      inventoryItem {
        legacyResourceId
        inventoryLevel(locationId: $location) {
          quantities(names: ["available"]) { name quantity }
        }
      }
    }
  }
}
"""
SET_QUANTITIES = """
mutation SetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    userErrors { code field message }
  }
}
"""
FULFILLMENT_ORDERS_QUERY = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    fulfillmentOrders(first: 20) {
      nodes {
        id status
        assignedLocation { location { id } }
        lineItems(first: 250) {
          nodes { id remainingQuantity sku variant { legacyResourceId } }
        }
      }
    }
  }
}
"""
FULFILLMENT_CREATE = """
mutation Fulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
"""
WEBHOOK_CREATE = """
mutation Hook($topic: WebhookSubscriptionTopic!,
              $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id }
    userErrors { field message }
  }
}
"""
WEBHOOKS_QUERY = """
query Hooks($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id topic
      endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } }
    }
  }
}
"""
WEBHOOK_DELETE = """
mutation Unhook($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}
"""
# Fulfilment orders Shopify lets a merchant fulfil.
OPEN_FULFILLMENT_STATUSES = ("OPEN", "IN_PROGRESS")


def gid(kind, legacy_id):
    """``gid://shopify/<kind>/<id>`` (an id already in that form is kept)."""
    text = str(legacy_id)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def legacy_id(global_id):
    return str(global_id or "").rsplit("/", 1)[-1]


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


def shopify_item(node):
    """A channel item (the connector's view of a sellable variant)."""
    product = node.get("product") or {}
    item = node.get("inventoryItem") or {}
    level = item.get("inventoryLevel") or {}
    available = None
    for quantity in level.get("quantities") or []:
        if quantity.get("name") == "available":
            available = quantity.get("quantity")
    return {
        "sku": node.get("sku") or "",
        "key": listing_key(
            "shopify",
            product.get("legacyResourceId"),
            node.get("legacyResourceId"),
            item.get("legacyResourceId"),
        ),
        "stock": available,
        "price": node.get("price"),
        "name": product.get("title"),
        "active": product.get("status") == "ACTIVE",
    }


def shopify_wait(answer):
    """Seconds until the query's cost is available again (Shopify's leaky bucket)."""
    cost = (answer.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    needed = float(cost.get("requestedQueryCost") or 0) - float(
        status.get("currentlyAvailable") or 0
    )
    rate = float(status.get("restoreRate") or 50)
    return max(needed, 0) / rate if rate > 0 else 2.0


def _money(value):
    return ((value or {}).get("shopMoney") or {}).get("amount")


def _rest_money(value):
    """A GraphQL ``MoneyBag`` as the REST ``*_set`` it stands for (or None)."""
    return value and {"shop_money": {"amount": _money(value)}}


def _rest_address(address):
    if not address:
        return None
    return {
        "name": address.get("name"),
        "first_name": address.get("firstName"),
        "last_name": address.get("lastName"),
        "company": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "zip": address.get("zip"),
        "province_code": address.get("provinceCode"),
        "country_code": address.get("countryCodeV2"),
        "phone": address.get("phone"),
    }


def _rest_allocations(entry, applications):
    allocations = []
    for alloc in entry.get("discountAllocations") or []:
        app = alloc.get("discountApplication") or {}
        label = app.get("code") or app.get("title") or ""
        if label not in applications:
            applications.append(label)
        allocations.append(
            {
                "amount": _money(alloc.get("allocatedAmountSet")),
                "discount_application_index": applications.index(label),
            }
        )
    return allocations


def shopify_graphql_order(node):
    """A GraphQL ``Order`` node in the shape of the ``orders/*`` webhooks, so
    that one mapper reads both and ids stay the same."""
    applications = []
    customer = node.get("customer")
    lines = [
        {
            "id": (item.get("id") or "").rsplit("/", 1)[-1],
            "name": item.get("name"),
            "sku": item.get("sku"),
            "quantity": item.get("quantity"),
            "variant_id": (item.get("variant") or {}).get("legacyResourceId"),
            "price": _money(item.get("originalUnitPriceSet")),
            "discount_allocations": _rest_allocations(item, applications),
        }
        for item in ((node.get("lineItems") or {}).get("nodes") or [])
    ]
    shipping = [
        {
            "title": ship.get("title"),
            "code": ship.get("code"),
            "price": _money(ship.get("originalPriceSet")),
            "discount_allocations": _rest_allocations(ship, applications),
        }
        for ship in ((node.get("shippingLines") or {}).get("nodes") or [])
    ]
    return {
        "id": node.get("legacyResourceId"),
        "name": node.get("name"),
        "email": node.get("email"),
        "note": node.get("note"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "closed_at": node.get("closedAt"),
        "financial_status": (node.get("displayFinancialStatus") or "pending").lower(),
        "taxes_included": bool(node.get("taxesIncluded")),
        "currency": node.get("currencyCode"),
        "total_price": _money(node.get("totalPriceSet")),
        "total_tip_received": _money(node.get("totalTipReceivedSet")),
        "original_total_duties_set": _rest_money(node.get("originalTotalDutiesSet")),
        "current_total_duties_set": _rest_money(node.get("currentTotalDutiesSet")),
        "customer": customer
        and {
            "id": customer.get("legacyResourceId"),
            "email": customer.get("email"),
            "first_name": customer.get("firstName"),
            "last_name": customer.get("lastName"),
            "phone": customer.get("phone"),
        },
        "billing_address": _rest_address(node.get("billingAddress")),
        "shipping_address": _rest_address(node.get("shippingAddress")),
        "line_items": lines,
        "shipping_lines": shipping,
        "discount_applications": [{"code": label} for label in applications],
    }


# WooCommerce REST API v3 -----------------------------------------------------


class WooCommerceClient:
    def __init__(self, site_url, consumer_key, consumer_secret, session=None):
        self.url = f"{site_url.rstrip('/')}/wp-json/wc/v3"
        self.auth = (consumer_key, consumer_secret)
        self.session = session or requests.Session()

    def orders_since(self, since):
        """Every order modified after ``since`` (naive UTC), oldest first."""
        params = {
            "per_page": PAGE_SIZE,
            "orderby": "modified",
            "order": "asc",
            "dates_are_gmt": "true",
        }
        if since:
            params["modified_after"] = since.strftime("%Y-%m-%dT%H:%M:%S")
        for page in range(1, MAX_PAGES + 1):
            response = _send(
                self.session,
                "GET",
                f"{self.url}/orders",
                params={**params, "page": page},
                auth=self.auth,
            )
            orders = _check(response)
            if not isinstance(orders, list):
                raise ApiError(
                    "WooCommerce answered with something that is not a list of orders."
                )
            yield from orders
            try:
                pages = int(response.headers.get("X-WP-TotalPages", page))
            except ValueError:
                pages = page
            if page >= pages or not orders:
                return

    # Outbound ----------------------------------------------------------------

    def _call(self, method, path, **kwargs):
        response = _send(
            self.session, method, f"{self.url}/{path}", auth=self.auth, **kwargs
        )
        return _check(response), response

    def system_status(self):
        return self._call("GET", "system_status")[0]

    def products_by_sku(self, skus):
        """Channel items (products and variations) with one of ``skus``."""
        skus = [s for s in skus if s and "," not in s]
        for start in range(0, len(skus), WOO_BATCH):
            chunk = skus[start : start + WOO_BATCH]
            found, _response = self._call(
                "GET",
                "products",
                params={"sku": ",".join(chunk), "per_page": WOO_BATCH},
            )
            for product in found or []:
                yield woo_item(product)

    def _pages(self, path, params=None):
        for page in range(1, MAX_PAGES + 1):
            items, response = self._call(
                "GET",
                path,
                params={**(params or {}), "per_page": WOO_BATCH, "page": page},
            )
            yield from items or []
            try:
                pages = int(response.headers.get("X-WP-TotalPages", page))
            except ValueError:
                pages = page
            if page >= pages or not items:
                return

    def catalogue(self):
        """Every product and variation as channel items."""
        for product in self._pages("products"):
            if product.get("type") == "variable":
                for variation in self._pages(f"products/{product['id']}/variations"):
                    variation.setdefault("parent_id", product["id"])
                    yield woo_item(variation, product)
            else:
                yield woo_item(product)

    def batch_update(self, updates):
        """``[(parent id or None, {id, ...fields})]``: ``products/batch`` for
        products, ``products/<parent>/variations/batch`` for variations, 100 a
        call. Returns ``{index: message}`` of the updates refused."""
        groups = {}
        for index, (parent, values) in enumerate(updates):
            groups.setdefault(parent, []).append((index, values))
        refused = {}
        for parent, items in groups.items():
            path = f"products/{parent}/variations/batch" if parent else "products/batch"
            for start in range(0, len(items), WOO_BATCH):
                chunk = items[start : start + WOO_BATCH]
                answer, _response = self._call(
                    "POST", path, json={"update": [values for _i, values in chunk]}
                )
                results = (answer or {}).get("update") or []
                for position, (index, _values) in enumerate(chunk):
                    result = results[position] if position < len(results) else None
                    if result is None:
                        refused[index] = "WooCommerce did not answer for this item."
                    elif result.get("error"):
                        refused[index] = str(
                            result["error"].get("message") or result["error"]
                        )
        return refused

    def complete_orders(self, order_ids):
        """Status ``completed`` through ``orders/batch``; ``{index: message}``."""
        refused = {}
        for start in range(0, len(order_ids), WOO_BATCH):
            chunk = order_ids[start : start + WOO_BATCH]
            answer, _response = self._call(
                "POST",
                "orders/batch",
                json={"update": [{"id": int(i), "status": "completed"} for i in chunk]},
            )
            results = (answer or {}).get("update") or []
            for position, _order_id in enumerate(chunk):
                result = results[position] if position < len(results) else None
                if not result or result.get("error"):
                    refused[start + position] = str(
                        ((result or {}).get("error") or {}).get("message")
                        or "WooCommerce did not complete the order."
                    )
        return refused

    def order_notes(self, order_id, note_type="any"):
        """The notes of an order (``note_type``: any, customer or internal),
        all in one answer: the list is not paged."""
        notes, _response = self._call(
            "GET", f"orders/{int(order_id)}/notes", params={"type": note_type}
        )
        return notes or []

    def add_order_note(self, order_id, note, customer_note=True):
        """Add ``note`` unless the order already has a note of the same kind
        with the same text (a retry after a lost answer to the POST: a customer
        note is e-mailed to the customer each time). Returns the note added, or
        the one already there."""
        note_type = "customer" if customer_note else "internal"
        for existing in self.order_notes(order_id, note_type):
            if (existing.get("note") or "").strip() == note.strip():
                return existing
        return self._call(
            "POST",
            f"orders/{int(order_id)}/notes",
            json={"note": note, "customer_note": customer_note},
        )[0]

    def webhooks(self):
        """Every webhook of the shop, whatever its status (active, paused,
        disabled)."""
        return self._pages("webhooks", {"status": "all"})

    def activate_webhook(self, webhook_id, secret):
        """Deliver again (status ``active``), signed with ``secret``."""
        return self._call(
            "PUT",
            f"webhooks/{int(webhook_id)}",
            json={"status": "active", "secret": secret},
        )[0]

    def delete_webhook(self, webhook_id):
        """Delete for good (``force``: webhooks cannot be trashed); one
        already gone (404) counts as deleted."""
        try:
            self._call(
                "DELETE", f"webhooks/{int(webhook_id)}", params={"force": "true"}
            )
        except ApiError as err:
            if err.status != 404:
                raise

    def create_webhook(self, name, topic, url, secret):
        return self._call(
            "POST",
            "webhooks",
            json={
                "name": name,
                "topic": topic,
                "delivery_url": url,
                "secret": secret,
                "status": "active",
            },
        )[0]


WOO_BATCH = 100


def woo_item(product, parent=None):
    """A channel item of a WooCommerce product or variation."""
    parent_id = product.get("parent_id") or None
    stock = product.get("stock_quantity") if product.get("manage_stock") else None
    return {
        "sku": product.get("sku") or "",
        "key": listing_key(
            "woocommerce",
            parent_id or product.get("id"),
            product.get("id") if parent_id else None,
        ),
        "stock": stock,
        "price": product.get("regular_price") or product.get("price"),
        # WordPress stores titles HTML-escaped ("&amp;") for most API users.
        "name": html.unescape(
            (parent or product).get("name") or product.get("name") or ""
        ),
        "active": product.get("status", "publish") == "publish",
    }
