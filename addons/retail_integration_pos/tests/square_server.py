"""A local stand-in for Square's REST API, answering as its public reference
says for the calls the connector makes: BatchRetrieveOrders
(POST /v2/orders/batch-retrieve), SearchOrders (POST /v2/orders/search: by
location, ``updated_at`` from ``start_at``, states, oldest update first,
paged with a cursor), BatchRetrieveCatalogObjects
(POST /v2/catalog/batch-retrieve, with ``include_related_objects``),
SearchCatalogObjects (POST /v2/catalog/search, exact and set queries on
``sku``), BatchUpsertCatalogObjects (POST /v2/catalog/batch-upsert: ``#``
ids replaced and listed in ``id_mappings``, an update of an object at another
version than Square's refused with ``VERSION_MISMATCH``, an ITEM's variations
replaced by those it is sent with, the idempotency key replaying the first
answer and refusing another body) and BatchChangeInventory
(POST /v2/inventory/changes/batch-create). Bearer token; errors as
``{"errors": [{"category", "code", "detail"}]}``, 429 as
``RATE_LIMIT_ERROR``/``RATE_LIMITED``."""

import copy
import itertools
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
        # Catalog: {item id: ITEM with its nested ITEM_VARIATIONs}
        self.items = {}
        self.idempotency = {}  # key -> (body, status, answer)
        self.search_page = 500  # orders per SearchOrders page
        self._ids = itertools.count(1)
        # Per request: None (answer), a status to answer with an error,
        # "lose" (do the work, then close the connection unanswered) or
        # bytes (answered as they are, 200).
        self.script = []
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

    def catalog_variations(self):
        """{variation id: (variation, item)} of the catalog's live objects."""
        return {
            variation["id"]: (variation, item)
            for item in self.items.values()
            for variation in item["item_data"].get("variations", [])
        }

    def next_version(self):
        return 1_700_000_000_000 + next(self._ids)

    def upsert(self, batches):
        """Save ``batches`` as Square does (each all or nothing): (errors,
        objects, id_mappings)."""
        errors, saved, mappings = [], [], []
        for batch in batches:
            problem, result = self._upsert_batch(batch.get("objects") or [])
            if problem:
                errors.append(problem)
                continue
            batch_items, batch_mappings = result
            for item in batch_items:
                self.items[item["id"]] = item
            saved.extend(batch_items)
            mappings.extend(batch_mappings)
        return errors, saved, mappings

    def _upsert_batch(self, objects):
        known = self.catalog_variations()
        ids, items, mappings = {}, [], []

        def real_id(client_id):
            if not client_id.startswith("#"):
                return client_id
            if client_id not in ids:
                ids[client_id] = f"SQ{next(self._ids):06d}"
                mappings.append(
                    {"client_object_id": client_id, "object_id": ids[client_id]}
                )
            return ids[client_id]

        def check_version(obj, current):
            if current is None:
                return _error("NOT_FOUND", f"Object {obj['id']} not found.")["errors"][
                    0
                ]
            if obj.get("version") != current.get("version"):
                return _error(
                    "VERSION_MISMATCH",
                    f"Object version does not match latest database version "
                    f"for {obj['id']}.",
                )["errors"][0]
            return None

        for obj in copy.deepcopy(objects):
            if obj.get("type") == "ITEM":
                if not obj["id"].startswith("#"):
                    problem = check_version(obj, self.items.get(obj["id"]))
                    if problem:
                        return problem, None
                obj["id"] = real_id(obj["id"])
                obj["version"] = self.next_version()
                for variation in obj.get("item_data", {}).get("variations", []):
                    if not variation["id"].startswith("#"):
                        current = known.get(variation["id"], (None,))[0]
                        problem = check_version(variation, current)
                        if problem:
                            return problem, None
                    variation["id"] = real_id(variation["id"])
                    variation["version"] = obj["version"]
                    variation["item_variation_data"]["item_id"] = obj["id"]
                items.append(obj)
            elif obj.get("type") == "ITEM_VARIATION":
                current, item = known.get(obj["id"], (None, None))
                problem = check_version(obj, current)
                if problem:
                    return problem, None
                item = copy.deepcopy(item)
                obj["version"] = item["version"] = self.next_version()
                item["item_data"]["variations"] = [
                    obj if v["id"] == obj["id"] else v
                    for v in item["item_data"]["variations"]
                ]
                items.append(item)
            else:
                return _error("BAD_REQUEST", "Unsupported object type.")["errors"][
                    0
                ], None
        return None, (items, mappings)


def _error(code, detail, category="INVALID_REQUEST_ERROR"):
    return {"errors": [{"category": category, "code": code, "detail": detail}]}


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, status, body):
        if getattr(self, "lose", False):
            return None
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
        if isinstance(scripted, bytes):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(scripted)))
            self.end_headers()
            return self.wfile.write(scripted)
        if scripted == 429:
            return self._answer(
                429, _error("RATE_LIMITED", "Rate limited.", "RATE_LIMIT_ERROR")
            )
        if isinstance(scripted, int):
            return self._answer(
                scripted, _error("SERVICE_UNAVAILABLE", "Try later.", "API_ERROR")
            )
        if scripted == "lose":
            self.lose = True
            self._route(body)  # done, but the answer is lost
            self.close_connection = True
            return self.connection.shutdown(2)
        return self._route(body)

    def _route(self, body):
        server = self.server
        if self.path == "/v2/orders/search":
            query = body.get("query") or {}
            where = query.get("filter") or {}
            since = ((where.get("date_time_filter") or {}).get("updated_at") or {}).get(
                "start_at"
            ) or ""
            states = (where.get("state_filter") or {}).get("states") or []
            found = sorted(
                (
                    order
                    for order in server.orders.values()
                    if order["location_id"] in (body.get("location_ids") or [])
                    and order.get("updated_at", "") >= since
                    and (not states or order["state"] in states)
                ),
                key=lambda o: (o.get("updated_at", ""), o["id"]),
            )
            start = int(body.get("cursor") or 0)
            limit = min(int(body.get("limit") or 500), server.search_page)
            page = {"orders": found[start : start + limit]}
            if start + limit < len(found):
                page["cursor"] = str(start + limit)
            return self._answer(200, page)
        if self.path == "/v2/catalog/search":
            query = body.get("query") or {}
            exact = query.get("exact_query") or {}
            many = query.get("set_query") or {}
            if (exact or many).get("attribute_name") != "sku":
                return self._answer(400, _error("BAD_REQUEST", "Unsupported query."))
            wanted = {
                str(v).lower()
                for v in [exact.get("attribute_value")]
                + list(many.get("attribute_values") or [])
                if v
            }
            objects = [
                variation
                for variation, _item in server.catalog_variations().values()
                if variation["item_variation_data"].get("sku", "").lower() in wanted
            ]
            return self._answer(200, {"objects": objects})
        if self.path == "/v2/catalog/batch-upsert":
            key = body.get("idempotency_key")
            if not key:
                return self._answer(
                    400,
                    _error(
                        "MISSING_REQUIRED_PARAMETER", "idempotency_key is required."
                    ),
                )
            if key in server.idempotency:
                first_body, status, answer = server.idempotency[key]
                if first_body != body:
                    return self._answer(
                        400,
                        _error(
                            "IDEMPOTENCY_KEY_REUSED",
                            "The idempotency key can only be retried with the "
                            "same request data.",
                        ),
                    )
                return self._answer(status, answer)
            errors, objects, mappings = server.upsert(body.get("batches") or [])
            if errors:
                status, answer = 400, {"errors": errors}
            else:
                status, answer = 200, {"objects": objects, "id_mappings": mappings}
            server.idempotency[key] = (body, status, answer)
            return self._answer(status, answer)
        if self.path == "/v2/orders/batch-retrieve":
            orders = [
                server.orders[i]
                for i in body.get("order_ids", [])
                if i in server.orders
                and server.orders[i]["location_id"] == body.get("location_id")
            ]
            return self._answer(200, {"orders": orders})
        if self.path == "/v2/catalog/batch-retrieve":
            catalog = server.catalog_variations()
            found = [catalog[i] for i in body.get("object_ids", []) if i in catalog]
            if found:
                related = {item["id"]: item for _v, item in found}
                return self._answer(
                    200,
                    {
                        "objects": [variation for variation, _item in found],
                        "related_objects": list(related.values())
                        if body.get("include_related_objects")
                        else [],
                    },
                )
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
        "updated_at": closed_at,
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
