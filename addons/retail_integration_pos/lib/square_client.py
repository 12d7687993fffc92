"""A small client of Square's REST API (Orders, Catalog, Inventory), as its
public reference documents the calls (version header ``Square-Version``)."""

import requests

from odoo.addons.retail_integration.lib.api_errors import ApiError
from odoo.addons.retail_integration.lib.api_http import read_json, send

from . import square_catalog

SQUARE_VERSION = "2025-01-23"
ORDERS_CHUNK = 100  # BatchRetrieveOrders takes at most 100 ids
CATALOG_CHUNK = 1000
SKU_CHUNK = 100  # values of one set query (SearchCatalogObjects)
SEARCH_LOCATIONS = 10  # SearchOrders takes at most 10 location ids
SEARCH_LIMIT = 500
INVENTORY_CHUNK = 100  # BatchChangeInventory takes at most 100 changes


class SquareClient:
    def __init__(self, base_url, access_token, session=None):
        self.base = base_url.rstrip("/")
        self.token = access_token
        self.session = session or requests.Session()

    def call(self, method, path, body=None):
        response = send(
            self.session,
            method,
            f"{self.base}{path}",
            json=body,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Square-Version": SQUARE_VERSION,
                "Content-Type": "application/json",
            },
        )
        answer = read_json(response)
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if errors:
            raise ApiError(
                "; ".join(str(e.get("detail") or e.get("code")) for e in errors)[:500]
            )
        return answer

    def orders(self, location_id, order_ids):
        """POST /v2/orders/batch-retrieve: the orders of ``order_ids``."""
        found = []
        for start in range(0, len(order_ids), ORDERS_CHUNK):
            answer = self.call(
                "POST",
                "/v2/orders/batch-retrieve",
                {
                    "location_id": location_id,
                    "order_ids": order_ids[start : start + ORDERS_CHUNK],
                },
            )
            found.extend(answer.get("orders") or [])
        return found

    def search_orders(self, location_ids, since):
        """POST /v2/orders/search: the completed or canceled orders of
        ``location_ids`` updated at or after ``since`` (RFC 3339), oldest
        update first; yields them a page at a time."""
        ids = sorted(set(location_ids))
        for start in range(0, len(ids), SEARCH_LOCATIONS):
            body = {
                "location_ids": ids[start : start + SEARCH_LOCATIONS],
                "query": {
                    "filter": {
                        "date_time_filter": {"updated_at": {"start_at": since}},
                        "state_filter": {"states": ["COMPLETED", "CANCELED"]},
                    },
                    # Square sorts by the field it filters on.
                    "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
                },
                "limit": SEARCH_LIMIT,
            }
            seen = set()
            while True:
                answer = self.call("POST", "/v2/orders/search", body)
                yield square_catalog.objects_of(answer, "orders", "SearchOrders")
                cursor = answer.get("cursor")
                if not cursor or not isinstance(cursor, str) or cursor in seen:
                    break
                seen.add(cursor)
                body = dict(body, cursor=cursor)

    def variation_skus(self, object_ids):
        """POST /v2/catalog/batch-retrieve: {item variation id: SKU}."""
        skus = {}
        ids = sorted({i for i in object_ids if i})
        for start in range(0, len(ids), CATALOG_CHUNK):
            answer = self.call(
                "POST",
                "/v2/catalog/batch-retrieve",
                {"object_ids": ids[start : start + CATALOG_CHUNK]},
            )
            for obj in answer.get("objects") or []:
                data = obj.get("item_variation_data") or {}
                if obj.get("type") == "ITEM_VARIATION" and data.get("sku"):
                    skus[obj["id"]] = data["sku"]
        return skus

    def physical_counts(self, counts, idempotency_key, occurred_at):
        """POST /v2/inventory/changes/batch-create: ``counts`` is a list of
        (catalog variation id, location id, quantity)."""
        for start in range(0, len(counts), INVENTORY_CHUNK):
            chunk = counts[start : start + INVENTORY_CHUNK]
            self.call(
                "POST",
                "/v2/inventory/changes/batch-create",
                {
                    "idempotency_key": f"{idempotency_key}-{start}",
                    "changes": [
                        {
                            "type": "PHYSICAL_COUNT",
                            "physical_count": {
                                "catalog_object_id": variation,
                                "location_id": location,
                                "state": "IN_STOCK",
                                "quantity": str(quantity),
                                "occurred_at": occurred_at,
                            },
                        }
                        for variation, location, quantity in chunk
                    ],
                },
            )

    def variations_by_sku(self, skus):
        """POST /v2/catalog/search: {SKU: item variation} of the variations
        whose SKU is one of ``skus`` (the first one of a SKU sold twice)."""
        found = {}
        wanted = sorted({s for s in skus if s})
        for start in range(0, len(wanted), SKU_CHUNK):
            body = {
                "object_types": ["ITEM_VARIATION"],
                "query": {
                    "set_query": {
                        "attribute_name": "sku",
                        "attribute_values": wanted[start : start + SKU_CHUNK],
                    }
                },
            }
            seen = set()
            while True:
                answer = self.call("POST", "/v2/catalog/search", body)
                for obj in square_catalog.objects_of(
                    answer, "objects", "Catalog search"
                ):
                    sku = (obj.get("item_variation_data") or {}).get("sku")
                    if obj.get("type") == "ITEM_VARIATION" and sku in wanted:
                        found.setdefault(sku, obj)
                cursor = answer.get("cursor")
                # A cursor seen before would page forever.
                if not cursor or not isinstance(cursor, str) or cursor in seen:
                    break
                seen.add(cursor)
                body = dict(body, cursor=cursor)
        return found

    def variations_with_items(self, object_ids):
        """POST /v2/catalog/batch-retrieve with the related objects:
        ({variation id: variation}, {item id: item}) as Square has them now."""
        variations, items = {}, {}
        ids = sorted({i for i in object_ids if i})
        for start in range(0, len(ids), CATALOG_CHUNK):
            answer = self.call(
                "POST",
                "/v2/catalog/batch-retrieve",
                {
                    "object_ids": ids[start : start + CATALOG_CHUNK],
                    "include_related_objects": True,
                },
            )
            where = "Catalog retrieve"
            for obj in square_catalog.objects_of(answer, "objects", where):
                if obj.get("type") == "ITEM_VARIATION" and not obj.get("is_deleted"):
                    variations[obj["id"]] = obj
            for obj in square_catalog.objects_of(answer, "related_objects", where):
                if obj.get("type") == "ITEM" and not obj.get("is_deleted"):
                    items[obj["id"]] = obj
        return variations, items

    def upsert_catalog(self, batches, key_prefix, creating=False):
        """POST /v2/catalog/batch-upsert: ``batches`` (lists of objects, each
        saved all or nothing), in requests of at most 1,000 objects; return
        {client object id (``#…``): Square's id}. ``creating``: the batches
        create objects; their requests' keys then name what they create, not
        its prices (see ``square_catalog.idempotency_key``)."""
        mappings = {}
        request, size = [], 0
        for batch in [*batches, None]:
            if batch is None or (request and size + len(batch) > CATALOG_CHUNK):
                if request:
                    keyed = square_catalog.created(request) if creating else request
                    answer = self.call(
                        "POST",
                        "/v2/catalog/batch-upsert",
                        {
                            "idempotency_key": square_catalog.idempotency_key(
                                key_prefix, keyed
                            ),
                            "batches": [{"objects": b} for b in request],
                        },
                    )
                    mappings.update(square_catalog.id_mappings(answer))
                request, size = [], 0
            if batch:
                request.append(batch)
                size += len(batch)
        return mappings
