"""The governed REST API against a real server (--workers=2): the rate limit
is one bucket across workers, and concurrent twins do one thing once (the
same Idempotency-Key: one order; reservations: never more than the stock)."""

import re
import threading
import time
import uuid

import pytest
import requests
from odoo_client import OdooClient

API = "/retail/api/v1"


@pytest.fixture(scope="module")
def admin(odoo_server, odoo_db):
    return OdooClient(odoo_server, odoo_db)


@pytest.fixture(scope="module")
def shop(admin):
    """A storefront backend, two products with stock, and an API client."""
    suffix = uuid.uuid4().hex[:8]
    [warehouse] = admin.call("stock.warehouse", "search_read", [], ["code"], limit=1)
    pricelist = admin.call("product.pricelist", "create", {"name": f"API {suffix}"})
    backend = admin.call(
        "retail.backend",
        "create",
        {
            "name": f"API system {suffix}",
            "code": f"api_sys_{suffix}",
            "channel_type": "storefront",
            "provider": "generic",
            "state": "active",
            "warehouse_id": warehouse["id"],
            "pricelist_id": pricelist,
        },
    )
    skus = {}
    for n in (1, 2):
        sku = f"APISYS-{suffix}-{n}"
        product = admin.call(
            "product.product",
            "create",
            {
                "name": sku,
                "default_code": sku,
                "is_storable": True,
                "list_price": 10.0,
                "taxes_id": [(6, 0, [])],
            },
        )
        [template] = admin.call(
            "product.product", "read", [product], ["product_tmpl_id"]
        )
        wizard = admin.call(
            "stock.change.product.qty",
            "create",
            {
                "product_id": product,
                "product_tmpl_id": template["product_tmpl_id"][0],
                "new_quantity": 10,
            },
        )
        admin.call("stock.change.product.qty", "change_product_qty", [wizard])
        skus[sku] = product
    scopes = admin.call("retail.api.scope", "search", [])
    client = admin.call(
        "retail.api.client",
        "create",
        {
            "name": f"System client {suffix}",
            "purpose": "System tests",
            "backend_id": backend,
            "scope_ids": [(6, 0, scopes)],
            "rate_limit": 1000,
            "rate_burst": 1000,
        },
    )
    return {
        "client": client,
        "warehouse": warehouse["code"],
        "skus": list(skus),
        "key": new_key(admin, client),
    }


def new_key(admin, client):
    """A key through the form's button: shown once, in its notification."""
    action = admin.call("retail.api.client", "action_generate_key", [client])
    return re.search(r"(rtk_[0-9a-f]{8}_\S{43})", action["params"]["message"]).group(1)


def together(count, send):
    """``send(i)`` from ``count`` threads released at once; the answers."""
    barrier = threading.Barrier(count)
    answers = [None] * count

    def run(i):
        barrier.wait()
        answers[i] = send(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def test_rate_limit_is_shared_across_workers(admin, shop, odoo_server):
    admin.call(
        "retail.api.client",
        "write",
        [shop["client"]],
        {"rate_limit": 1, "rate_burst": 10},
    )
    url = f"{odoo_server}{API}/stock?skus={shop['skus'][0]}"
    headers = {"Authorization": f"Bearer {shop['key']}"}
    started = time.monotonic()
    answers = together(
        8,
        lambda _i: [requests.get(url, headers=headers, timeout=30) for _n in range(5)],
    )
    elapsed = time.monotonic() - started
    statuses = [r.status_code for batch in answers for r in batch]
    allowed = statuses.count(200)
    # one bucket for both workers: the burst and what refilled, no more
    assert allowed <= 10 + int(elapsed) + 1, (allowed, elapsed)
    assert allowed >= 10, statuses
    assert statuses.count(429) == len(statuses) - allowed
    refused = next(r for batch in answers for r in batch if r.status_code == 429)
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
    admin.call(
        "retail.api.client",
        "write",
        [shop["client"]],
        {"rate_limit": 1000, "rate_burst": 1000},
    )
    time.sleep(1)


def test_same_idempotency_key_concurrently_makes_one_order(admin, shop, odoo_server):
    order_id = f"SYS-{uuid.uuid4().hex[:8]}"
    body = {
        "id": order_id,
        "currency": admin.call(
            "res.company", "search_read", [], ["currency_id"], limit=1
        )[0]["currency_id"][1],
        "total": "20.00",
        "customer": {"id": "C-SYS", "email": "sys@example.com", "name": "Sys Buyer"},
        "lines": [
            {"id": "1", "sku": shop["skus"][1], "quantity": 2, "unit_price": "10.00"}
        ],
    }
    headers = {
        "Authorization": f"Bearer {shop['key']}",
        "Idempotency-Key": f"idem-{order_id}",
    }
    answers = together(
        6,
        lambda _i: requests.post(
            f"{odoo_server}{API}/orders", json=body, headers=headers, timeout=60
        ),
    )
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    assert len({a.json()["name"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 5
    refs = admin.call(
        "retail.external.ref",
        "search_count",
        [["external_id", "=", order_id], ["res_model", "=", "sale.order"]],
    )
    assert refs == 1
    other = requests.post(
        f"{odoo_server}{API}/orders",
        json={**body, "total": "21.00"},
        headers=headers,
        timeout=60,
    )
    assert other.status_code == 409


def test_concurrent_reservations_never_exceed_the_stock(admin, shop, odoo_server):
    sku = shop["skus"][0]
    headers = {"Authorization": f"Bearer {shop['key']}"}
    body = {
        "warehouse": shop["warehouse"],
        "customer": {"name": "Racer"},
        "lines": [{"sku": sku, "quantity": 3}],
    }
    answers = together(
        6,
        lambda _i: requests.post(
            f"{odoo_server}{API}/reservations", json=body, headers=headers, timeout=60
        ),
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 201, 201, 409, 409, 409], [a.text for a in answers]
    stock = requests.get(
        f"{odoo_server}{API}/stock?skus={sku}&warehouse={shop['warehouse']}",
        headers={**headers, "X-Correlation-Id": "sys-read-audit"},
        timeout=30,
    ).json()
    assert stock["items"][0]["reserved"] == 9.0
    assert stock["items"][0]["available"] == 1
    # a read's audit row is committed on the worker's own connection
    [read] = admin.call(
        "retail.api.call",
        "search_read",
        [["correlation_id", "=", "sys-read-audit"]],
        ["client_id", "route", "method", "status", "latency_ms"],
    )
    assert read["client_id"][0] == shop["client"]
    assert (read["route"], read["method"], read["status"]) == (
        f"{API}/stock",
        "GET",
        200,
    )
    assert read["latency_ms"] > 0
    calls = admin.call(
        "retail.api.call",
        "search_count",
        [["client_id", "=", shop["client"]], ["route", "=", f"{API}/reservations"]],
    )
    assert calls == 6
    [client] = admin.call(
        "retail.api.client", "read", [shop["client"]], ["last_used_at", "key_ids"]
    )
    assert client["last_used_at"]
    [key] = admin.call("retail.api.key", "read", client["key_ids"], ["last_used_at"])
    assert key["last_used_at"]
