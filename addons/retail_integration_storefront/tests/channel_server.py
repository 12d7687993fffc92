"""A local stand-in for Shopify's GraphQL Admin API and WooCommerce's REST
API v3, answering as their documentation says: the endpoints the connector
uses (orders in; inventory, prices, products, fulfilments, webhooks out),
their authentication, pagination, per-item errors and throttling."""

import base64
import json
import re
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from . import channel_shopify as shopify
from . import channel_woocommerce as woocommerce

SHOPIFY_TOKEN = "shpat_test_token"
WOO_KEY, WOO_SECRET = "ck_test", "cs_test"
WOO_PREFIX = "/wp-json/wc/v3/"
STRIPE_KEY = "rk_test_payouts"
GRAPHQL_PATH = re.compile(r"^/admin/api/[0-9]{4}-[0-9]{2}/graphql\.json$")
# What WordPress answers when PHP fails after the work was done.
WOO_CRITICAL_ERROR = {
    "code": "internal_server_error",
    "message": "There has been a critical error on this website.",
    "data": {"status": 500},
}


def _moment(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


class ChannelServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.shopify_orders = []  # GraphQL Order nodes
        self.woo_orders = []  # REST order objects
        # one per request: None (answer), 503, 429, "throttled"; "lost"
        # (WooCommerce): done, but answered 500 as if the answer were lost
        self.script = []
        self.requests = []  # (method, path, JSON body, headers)
        self.page_size = None
        self.shopify_available = 1990  # GraphQL cost points left in the bucket
        self.reset_catalogue()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def reset_catalogue(self):
        # Shopify: ProductVariant nodes (as the connector's query reads them),
        # inventory {(inventory item gid, location gid): available}, fulfilment
        # orders {order gid: [FulfillmentOrder nodes]}.
        self.shopify_variants = []
        self.shopify_products = {}  # gid → productCreate input (created here)
        # Stripe: {payout id: [balance transactions]}, the payout's own included
        self.stripe_balance = {}
        # Shopify Payments: payout nodes, {payout legacy id: [balance
        # transaction nodes]}; False: the shop has no Shopify Payments account
        self.shopify_payouts = []
        self.shopify_balance = {}
        self.shopify_payments = True
        self.shopify_price_lists = {}  # {gid: {"currency", "prices": {variant: price}}}
        self.shopify_inventory = {}
        self.shopify_fulfillment_orders = {}
        self.shopify_fulfillments = []
        self.shopify_delivered = []  # fulfilment gids with a DELIVERED event
        self.shopify_webhooks = []
        # WooCommerce: products and variations {id: object}, orders {id: object},
        # notes {order id: [note]}.
        self.woo_products = {}
        self.woo_order_status = {}
        self.woo_notes = {}
        self.woo_refunds = {}  # {order id: [refund objects]}
        self.woo_webhooks = []

    def graphql_calls(self, word):
        """The GraphQL requests whose document contains ``word``."""
        return [
            r[2]
            for r in self.requests
            if r[0] == "POST" and word in r[2].get("query", "")
        ]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, status, payload, headers=None):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _scripted(self):
        if not self.server.script:
            return None
        forced = self.server.script.pop(0)
        if forced is None:
            return None
        if forced == 429:
            self._answer(429, {"errors": "Too Many Requests"}, {"Retry-After": "3"})
        elif forced == "throttled":
            self._answer(
                200,
                {
                    "errors": [
                        {"message": "Throttled", "extensions": {"code": "THROTTLED"}}
                    ],
                    "extensions": {
                        "cost": {
                            "requestedQueryCost": 502,
                            "actualQueryCost": None,
                            "throttleStatus": {
                                "maximumAvailable": 2000,
                                "currentlyAvailable": 2,
                                "restoreRate": 100,
                            },
                        }
                    },
                },
            )
        else:
            self._answer(forced, {"errors": "Service Unavailable"})
        return True

    def _body(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append((method, self.path, request, dict(self.headers)))
        return request

    def do_PUT(self):  # WooCommerce
        request = self._body("PUT")
        return self._woo("PUT", urlparse(self.path), request)

    def do_DELETE(self):  # WooCommerce
        request = self._body("DELETE")
        return self._woo("DELETE", urlparse(self.path), request)

    def do_POST(self):
        request = self._body("POST")
        if self.path.startswith(WOO_PREFIX):
            return self._woo("POST", urlparse(self.path), request)
        if not GRAPHQL_PATH.match(self.path):
            return self._answer(404, {"errors": "Not Found"})
        if self.headers.get("X-Shopify-Access-Token") != SHOPIFY_TOKEN:
            return self._answer(
                401,
                {
                    "errors": "[API] Invalid API key or access token "
                    "(unrecognized login or wrong password)"
                },
            )
        if self._scripted():
            return None
        variables = request.get("variables") or {}
        document = request.get("query") or ""
        for word, handler in shopify.HANDLERS:
            if word in document:
                return self._graphql(handler(self.server, document, variables))
        orders = sorted(self.server.shopify_orders, key=lambda o: o["updatedAt"])
        match = re.search(r"updated_at:>'([^']+)'", variables.get("query") or "")
        if match:
            since = _moment(match.group(1))
            orders = [o for o in orders if _moment(o["updatedAt"]) > since]
        start = int(variables.get("after") or 0)
        first = min(int(variables.get("first") or 50), self.server.page_size or 250)
        page = orders[start : start + first]
        more = start + first < len(orders)
        return self._answer(
            200,
            {
                "data": {
                    "orders": {
                        "nodes": page,
                        "pageInfo": {
                            "hasNextPage": more,
                            "endCursor": str(start + first) if more else None,
                        },
                    }
                },
                "extensions": {
                    "cost": {
                        "requestedQueryCost": 52,
                        "actualQueryCost": 12,
                        "throttleStatus": {
                            "maximumAvailable": 2000,
                            "currentlyAvailable": 1988,
                            "restoreRate": 100,
                        },
                    }
                },
            },
        )

    def _graphql(self, data):
        return self._answer(
            200,
            {
                "data": data,
                "extensions": {
                    "cost": {
                        "requestedQueryCost": 10,
                        "actualQueryCost": 10,
                        "throttleStatus": {
                            "maximumAvailable": 2000,
                            "currentlyAvailable": self.server.shopify_available,
                            "restoreRate": 100,
                        },
                    }
                },
            },
        )

    def _stripe_balance(self, query):
        """Stripe's list of a payout's balance transactions, 100 a page at
        most, after ``starting_after``."""
        if self.headers.get("Authorization") != f"Bearer {STRIPE_KEY}":
            return self._answer(
                401,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": "Invalid API Key provided.",
                    }
                },
            )
        items = self.server.stripe_balance.get(query.get("payout", [""])[0], [])
        after = query.get("starting_after", [None])[0]
        if after:
            ids = [item["id"] for item in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        limit = min(int(query.get("limit", ["10"])[0]), 100)
        return self._answer(
            200,
            {
                "object": "list",
                "url": "/v1/balance_transactions",
                "has_more": len(items) > limit,
                "data": items[:limit],
            },
        )

    def _woo_denied(self):
        expected = (
            "Basic " + base64.b64encode(f"{WOO_KEY}:{WOO_SECRET}".encode()).decode()
        )
        if self.headers.get("Authorization") != expected:
            self._answer(
                401,
                {
                    "code": "woocommerce_rest_cannot_view",
                    "message": "Sorry, you cannot list resources.",
                },
            )
            return True
        return False

    def _woo(self, method, url, request):
        if self._woo_denied():
            return None
        lost = self.server.script[:1] == ["lost"]
        if lost:
            self.server.script.pop(0)
        elif self._scripted():
            return None
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path[len(WOO_PREFIX) :]
        for verb, pattern, handler in woocommerce.ROUTES:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                status, payload, headers = handler(
                    self.server, request, params, *match.groups()
                )
                if lost:
                    return self._answer(500, WOO_CRITICAL_ERROR)
                return self._answer(status, payload, headers)
        return self._answer(
            404, {"code": "rest_no_route", "message": "No route was found."}
        )

    def do_GET(self):  # WooCommerce, Stripe
        url = urlparse(self.path)
        self.server.requests.append(("GET", self.path, None, dict(self.headers)))
        if url.path == "/v1/balance_transactions":
            return self._stripe_balance(parse_qs(url.query))
        if url.path != "/wp-json/wc/v3/orders":
            return self._woo("GET", url, None)
        expected = (
            "Basic " + base64.b64encode(f"{WOO_KEY}:{WOO_SECRET}".encode()).decode()
        )
        if self.headers.get("Authorization") != expected:
            return self._answer(
                401,
                {
                    "code": "woocommerce_rest_cannot_view",
                    "message": "Sorry, you cannot list resources.",
                },
            )
        if self._scripted():
            return None
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        orders = sorted(self.server.woo_orders, key=lambda o: o["date_modified_gmt"])
        if "modified_after" in params:
            since = _moment(params["modified_after"])
            orders = [o for o in orders if _moment(o["date_modified_gmt"]) > since]
        per_page = min(int(params.get("per_page", 10)), self.server.page_size or 100)
        page = int(params.get("page", 1))
        pages = max(1, -(-len(orders) // per_page))
        chunk = orders[(page - 1) * per_page : page * per_page]
        return self._answer(
            200, chunk, {"X-WP-Total": str(len(orders)), "X-WP-TotalPages": str(pages)}
        )
