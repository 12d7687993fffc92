"""The governed REST API against Odoo with --workers=2.

Stock availability of 50 SKUs per call (GET /retail/api/v1/stock) at
concurrency 8, beside the no-op auth='none' route in the same server:
requests/s, p50/p99, and the ratio of the two throughputs (target >= 0.6,
p99 < 100 ms), the routes alternated in rounds so that the machine's drift
weighs on them alike. Then order submission: canonical orders POSTed one after
another to /retail/api/v1/orders (Idempotency-Key, the storefront's import
path, audit), beside the same orders imported by direct ORM calls in this
process (target >= 0.8).

    python3 bench/api_stock.py [--requests 2000] [--rounds 4] [--concurrency 8]
        [--orders 60]

The database is named ``$API_BENCH_DB_PREFIX<pid>`` (default ``retail_bench_``).
"""

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import BenchOdoo, combined, percentile  # noqa: E402

SKUS = 50


def load(method, url, count, concurrency, headers=None, body=None):
    """``count`` requests from ``concurrency`` threads; (req/s, latencies,
    statuses)."""
    latencies, statuses, lock = [], {}, threading.Lock()

    def worker(n):
        session = requests.Session()
        for _i in range(n):
            started = time.perf_counter()
            status = session.request(
                method, url, headers=headers, data=body, timeout=30
            ).status_code
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    shares = [
        count // concurrency + (i < count % concurrency) for i in range(concurrency)
    ]
    threads = [threading.Thread(target=worker, args=(n,)) for n in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count / (time.perf_counter() - started), latencies, statuses


def report(label, rate, latencies, statuses):
    print(
        f"{label:<28} {rate:7.1f} req/s   "
        f"p50 {percentile(latencies, 0.5) * 1000:6.1f} ms   "
        f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms   statuses {statuses}"
    )


def prepare(odoo):
    """A storefront backend, 50 stocked products, an API client and its key."""
    odoo.load()
    with odoo.env() as env:
        warehouse = env["stock.warehouse"].search([], limit=1)
        pricelist = env["product.pricelist"].create({"name": "Bench"})
        backend = env["retail.backend"].create(
            {
                "name": "Bench shop",
                "code": "bench_shop",
                "channel_type": "storefront",
                "state": "active",
                "warehouse_id": warehouse.id,
                "pricelist_id": pricelist.id,
            }
        )
        products = env["product.product"].create(
            [
                {
                    "name": f"Bench {n}",
                    "default_code": f"BENCH-{n:03d}",
                    "is_storable": True,
                    "list_price": 10.0,
                    "taxes_id": [(6, 0, [])],
                }
                for n in range(SKUS)
            ]
        )
        for product in products:
            env["stock.quant"]._update_available_quantity(
                product, warehouse.lot_stock_id, 1000
            )
        client = env["retail.api.client"].create(
            {
                "name": "Bench client",
                "purpose": "Benchmark",
                "backend_id": backend.id,
                "scope_ids": [(6, 0, env["retail.api.scope"].search([]).ids)],
                "rate_limit": 100000,
                "rate_burst": 100000,
            }
        )
        key, _record = env["retail.api.key"]._generate(client)
        return (
            key,
            products.mapped("default_code"),
            backend.id,
            env.company.currency_id.name,
        )


def order(n, currency, skus, prefix):
    return {
        "id": f"{prefix}-{n}",
        "currency": currency,
        "total": "30.00",
        "financial_status": "paid",
        "customer": {
            "id": f"C-{n % 10}",
            "email": f"c{n % 10}@example.com",
            "name": "Bench",
        },
        "lines": [
            {"id": "1", "sku": skus[n % SKUS], "quantity": 2, "unit_price": "10.00"},
            {
                "id": "2",
                "sku": skus[(n + 1) % SKUS],
                "quantity": 1,
                "unit_price": "10.00",
            },
        ],
    }


def orders_by_api(odoo, key, currency, skus, count):
    url = f"{odoo.url}/retail/api/v1/orders"
    session = requests.Session()
    started = time.perf_counter()
    for n in range(count):
        response = session.post(
            url,
            json=order(n, currency, skus, "API"),
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"b-{n}"},
            timeout=60,
        )
        if response.status_code != 201:
            raise SystemExit(f"order {n}: {response.status_code} {response.text}")
    return count / (time.perf_counter() - started)


def orders_by_orm(odoo, backend_id, currency, skus, count):
    """The same import path called directly, one transaction per order, as
    the backend's technical user."""
    from odoo.addons.retail_integration_storefront.lib.generic.mapper import (
        generic_order,
    )

    started = time.perf_counter()
    for n in range(count):
        with odoo.env() as env:
            backend = env["retail.backend"].browse(backend_id)
            importer = backend._as_technical_user(env["retail.storefront.importer"])
            importer._import_order(
                backend, generic_order(order(n, currency, skus, "ORM"))
            )
    return count / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per route")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--orders", type=int, default=60)
    args = parser.parse_args()
    # Root channel capacity 0: no job runner taking the same 2 workers.
    odoo = BenchOdoo(
        ["retail_integration_api", "retail_bench_noop"],
        channels="root:0",
        db_prefix=os.environ.get("API_BENCH_DB_PREFIX", "retail_bench_"),
    )
    try:
        print(f"installing on {odoo.db}: {odoo.install():.0f} s")
        key, skus, backend_id, currency = prepare(odoo)
        odoo.start()
        noop_url = f"{odoo.url}/retail/bench/noop"
        # What any route that opens a transaction and writes a row costs here
        # (the API writes its audit row): the floor under the stock route.
        insert_url = f"{odoo.url}/retail/bench/insert"
        stock_url = f"{odoo.url}/retail/api/v1/stock?skus={','.join(skus)}"
        auth = {"Authorization": f"Bearer {key}"}
        body = json.dumps({}).encode()
        plain = {"Content-Type": "application/json"}
        load("POST", noop_url, 200, args.concurrency, plain, body)  # warm-up
        load("POST", insert_url, 200, args.concurrency, plain, body)
        load("GET", stock_url, 200, args.concurrency, auth)
        per_round = args.requests // args.rounds
        runs = {"noop": [], "insert": [], "stock": []}
        for _round in range(args.rounds):
            runs["noop"].append(
                load("POST", noop_url, per_round, args.concurrency, plain, body)
            )
            runs["insert"].append(
                load("POST", insert_url, per_round, args.concurrency, plain, body)
            )
            runs["stock"].append(
                load("GET", stock_url, per_round, args.concurrency, auth)
            )
        noop, insert, stock = (combined(runs[k]) for k in ("noop", "insert", "stock"))
        if set(stock[2]) != {200}:
            raise SystemExit(f"stock statuses {stock[2]}")
        print(
            f"{per_round * args.rounds} requests per route in {args.rounds} "
            f"alternated rounds, concurrency {args.concurrency}, --workers=2"
        )
        report("no-op auth='none' route", *noop)
        report("one INSERT + COMMIT route", *insert)
        report(f"stock, {SKUS} SKUs per call", *stock)
        print(f"throughput ratio stock/no-op: {stock[0] / noop[0]:.2f} (target >= 0.6)")
        print(
            f"throughput ratio one-INSERT route/no-op: {insert[0] / noop[0]:.2f}, "
            f"stock/one-INSERT route: {stock[0] / insert[0]:.2f}"
        )
        print(
            f"stock p99: {percentile(stock[1], 0.99) * 1000:.1f} ms (target < 100 ms)"
        )

        api_rate = orders_by_api(odoo, key, currency, skus, args.orders)
        orm_rate = orders_by_orm(odoo, backend_id, currency, skus, args.orders)
        print(
            f"orders, one after another: API {api_rate:.1f}/s, "
            f"direct ORM {orm_rate:.1f}/s, ratio {api_rate / orm_rate:.2f} "
            "(target >= 0.8)"
        )
    finally:
        odoo.drop()


if __name__ == "__main__":
    main()
