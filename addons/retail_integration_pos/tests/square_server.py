"""A local stand-in for Square's REST API, answering as its public reference
says for the calls the connector makes: BatchRetrieveOrders
(POST /v2/orders/batch-retrieve), BatchRetrieveCatalogObjects
(POST /v2/catalog/batch-retrieve) and BatchChangeInventory
(POST /v2/inventory/changes/batch-create). Bearer token; errors as
``{"errors": [{"category", "code", "detail"}]}``."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "EAAAl-square-test-token"


class SquareServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.orders = {}  # id -> Order
        self.variations = {}  # id -> SKU
        self.inventory_changes = []
        self.requests = []
        self.script = []  # per request: None (answer) or a status to answer
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


def _error(code, detail, category="INVALID_REQUEST_ERROR"):
    return {"errors": [{"category": category, "code": code, "detail": detail}]}


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        server.requests.append((self.path, body, dict(self.headers)))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._answer(
                401,
                _error(
                    "UNAUTHORIZED",
                    "This request could not be authorized.",
                    "AUTHENTICATION_ERROR",
                ),
            )
        scripted = server.script.pop(0) if server.script else None
        if scripted:
            return self._answer(
                scripted, _error("SERVICE_UNAVAILABLE", "Try later.", "API_ERROR")
            )
        if self.path == "/v2/orders/batch-retrieve":
            orders = [
                server.orders[i]
                for i in body.get("order_ids", [])
                if i in server.orders
                and server.orders[i]["location_id"] == body.get("location_id")
            ]
            return self._answer(200, {"orders": orders})
        if self.path == "/v2/catalog/batch-retrieve":
            objects = [
                {
                    "type": "ITEM_VARIATION",
                    "id": i,
                    "item_variation_data": {"sku": server.variations[i]},
                }
                for i in body.get("object_ids", [])
                if i in server.variations
            ]
            return self._answer(200, {"objects": objects})
        if self.path == "/v2/inventory/changes/batch-create":
            server.inventory_changes.extend(body.get("changes", []))
            return self._answer(200, {"counts": []})
        return self._answer(404, _error("NOT_FOUND", "Unknown path."))


def square_order(
    order_id,
    location,
    lines,
    tenders,
    register="R1",
    number=None,
    state="COMPLETED",
    closed_at="2026-12-03T10:00:00Z",
    returns=None,
):
    """An Order as BatchRetrieveOrders returns it. ``lines``: (variation id,
    quantity, unit price in cents); ``tenders``: (type, cents)."""
    items = [
        {
            "uid": f"li-{i}",
            "catalog_object_id": variation,
            "quantity": str(qty),
            "name": f"Item {variation}",
            "base_price_money": {"amount": cents, "currency": "USD"},
            "total_discount_money": {"amount": 0, "currency": "USD"},
            "total_money": {"amount": cents * qty, "currency": "USD"},
        }
        for i, (variation, qty, cents) in enumerate(lines)
    ]
    # A paid order's total (taxes included) is what its tenders cover.
    total = sum(cents for _kind, cents in tenders)
    order = {
        "id": order_id,
        "location_id": location,
        "state": state,
        "created_at": closed_at,
        "closed_at": closed_at,
        "source": {"name": "Square Point of Sale"},
        "metadata": {"register": register, "ticket_number": number or order_id},
        "line_items": items,
        "tenders": [
            {
                "id": f"t-{order_id}-{i}",
                "type": kind,
                "amount_money": {"amount": cents, "currency": "USD"},
            }
            for i, (kind, cents) in enumerate(tenders)
        ],
        "total_money": {"amount": total, "currency": "USD"},
    }
    if returns:
        order["returns"] = returns
        order["line_items"] = []
        order["total_money"] = {
            "amount": -sum(
                int(li["base_price_money"]["amount"]) * int(li["quantity"])
                for r in returns
                for li in r["return_line_items"]
            ),
            "currency": "USD",
        }
    return order
