"""A small client of Square's REST API (Orders, Catalog, Inventory), as its
public reference documents the calls (version header ``Square-Version``)."""

import requests

from odoo.addons.retail_integration.lib.api_errors import ApiError
from odoo.addons.retail_integration.lib.api_http import read_json, send

SQUARE_VERSION = "2025-01-23"
ORDERS_CHUNK = 100  # BatchRetrieveOrders takes at most 100 ids
CATALOG_CHUNK = 1000
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
