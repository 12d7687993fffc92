"""Storefront orders in: signed order webhooks → confirmed sale orders.

A generic storefront backend (Standard Webhooks) on a real Odoo server with
--workers=2 and queue_job's runner. The run first creates and confirms the
same kind of orders directly through the ORM, one transaction each, in this
process (the baseline); then POSTs N signed ``order.created`` webhooks (paid,
3 lines, 50 customers) at concurrency 8 and watches the database until every
order is a confirmed ``sale.order``: orders/s end to end, and p50/p99 from a
webhook's POST to its confirmed order (seen by polling every 50 ms, so each
latency is at most 50 ms late). Prints the ratio webhook/ORM (target >= 0.6).
Sent all at once, the webhooks queue up faster than jobs drain them, so the
latency is mostly time in the queue; ``--rate`` paces them to see the latency
of one order when the server keeps up.

    .venv/bin/python bench/storefront_orders.py [--orders 1000] [--concurrency 8]

Run it with the project's .venv Python: the server's gevent process needs a
Python whose pkg_resources finds zope.interface (the system python3 here does
not, and that process then crash-loops and takes CPU from the run).
"""

import argparse
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import BenchOdoo, load_lib, percentile  # noqa: E402

standard_webhooks = load_lib("retail_integration/lib/standard_webhooks.py")

SECRET = standard_webhooks.generate_secret()
CUSTOMERS = 50
PRICES = ("12.50", "24.00", "15.00")


def order_data(prefix, n, currency):
    customer = n % CUSTOMERS
    return {
        "id": f"{prefix}-{n}",
        "name": f"#{prefix}-{n}",
        "currency": currency,
        "total": f"{sum(float(p) * (i + 1) for i, p in enumerate(PRICES)):.2f}",
        "financial_status": "paid",
        "customer": {
            "id": f"C-{customer}",
            "email": f"buyer{customer}@example.com",
            "name": f"Buyer {customer}",
        },
        "lines": [
            {
                "id": str(i + 1),
                "sku": f"BENCH-{i + 1}",
                "quantity": i + 1,
                "unit_price": price,
            }
            for i, price in enumerate(PRICES)
        ],  # fmt: skip
    }


def signed(order):
    body = json.dumps(
        {"type": "order.created", "timestamp": time.time(), "data": order}
    ).encode()
    msg_id = uuid.uuid4().hex
    timestamp = int(time.time()) + 60  # still within tolerance when sent
    return body, {
        "Content-Type": "application/json",
        **standard_webhooks.headers(SECRET, msg_id, timestamp, body),
    }


def env_of(registry):
    from odoo import SUPERUSER_ID, api

    class Env:
        def __enter__(self):
            self.cr = registry.cursor()
            return api.Environment(self.cr, SUPERUSER_ID, {})

        def __exit__(self, exc_type, *exc):
            if exc_type is None:
                self.cr.commit()
            self.cr.close()

    return Env()


def setup(registry):
    with env_of(registry) as env:
        company = env.company
        warehouse = env["stock.warehouse"].search(
            [("company_id", "=", company.id)], limit=1
        )
        pricelist = env["product.pricelist"].create(
            {"name": "Bench Web", "currency_id": company.currency_id.id}
        )
        for i in range(len(PRICES)):
            env["product.product"].create(
                {
                    "name": f"Bench product {i + 1}",
                    "default_code": f"BENCH-{i + 1}",
                    "type": "consu",
                    "taxes_id": [(6, 0, [])],
                }
            )
        backend = env["retail.backend"].create(
            {
                "name": "Bench shop",
                "code": "bench_shop",
                "channel_type": "storefront",
                "provider": "generic",
                "state": "active",
                "warehouse_id": warehouse.id,
                "pricelist_id": pricelist.id,
            }
        )
        endpoint = env["retail.webhook.endpoint"].create(
            {
                "name": "Bench shop",
                "backend_id": backend.id,
                "scheme": "standard",
                "secret": SECRET,
                "rate_limit": 100000,
                "rate_burst": 100000,
            }
        )
        return backend.id, endpoint.token, company.currency_id.name


def orm_arm(registry, count, currency):
    """Create and confirm ``count`` orders like the webhook's, one
    transaction each, straight through the ORM."""
    started = time.perf_counter()
    for n in range(count):
        data = order_data("D", n, currency)
        with env_of(registry) as env:
            customer = data["customer"]
            partner = env["res.partner"].search(
                [("email", "=", customer["email"])], limit=1
            ) or env["res.partner"].create(
                {"name": customer["name"], "email": customer["email"]}
            )
            lines = []
            for line in data["lines"]:
                product = env["product.product"].search(
                    [("default_code", "=", line["sku"])], limit=1
                )
                lines.append(
                    (0, 0, {
                        "product_id": product.id,
                        "product_uom_qty": line["quantity"],
                        "price_unit": float(line["unit_price"]),
                    })
                )  # fmt: skip
            order = env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "client_order_ref": data["name"],
                    "order_line": lines,
                }
            )
            order.action_confirm()
    return count / (time.perf_counter() - started)


def webhook_arm(odoo, backend_id, token, count, concurrency, currency, rate=None):
    url = f"{odoo.url}/retail/webhook/{token}"
    prepared = [
        (n, f"#W-{n}", signed(order_data("W", n, currency))) for n in range(count)
    ]
    posted, confirmed, statuses = {}, {}, {}
    lock = threading.Lock()
    done = threading.Event()

    def poll():
        import psycopg2

        conn = psycopg2.connect(dbname=odoo.db)
        conn.autocommit = True
        with conn.cursor() as cr:
            while not done.is_set():
                cr.execute(
                    "SELECT client_order_ref FROM sale_order "
                    "WHERE retail_backend_id = %s AND state = 'sale'",
                    [backend_id],
                )
                now = time.perf_counter()
                for (name,) in cr.fetchall():
                    confirmed.setdefault(name, now)
                if len(confirmed) >= count:
                    done.set()
                time.sleep(0.05)
        conn.close()

    def worker(chunk):
        session = requests.Session()
        for n, name, (body, headers) in chunk:
            if rate:  # paced: the n-th webhook leaves at n / rate seconds
                time.sleep(max(0.0, started + n / rate - time.perf_counter()))
            with lock:
                posted[name] = time.perf_counter()
            status = session.post(url, data=body, headers=headers, timeout=30)
            with lock:
                statuses[status.status_code] = statuses.get(status.status_code, 0) + 1

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    threads = [
        threading.Thread(target=worker, args=(prepared[i::concurrency],))
        for i in range(concurrency)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    post_seconds = time.perf_counter() - started
    done.wait(timeout=max(120, count))
    done.set()
    poller.join()
    last = max(confirmed.values(), default=started)
    latencies = [confirmed[n] - posted[n] for n in confirmed if n in posted]
    return {
        "rate": len(confirmed) / (last - started),
        "post_rate": count / post_seconds,
        "confirmed": len(confirmed),
        "latencies": latencies,
        "statuses": statuses,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="send the webhooks at this many per second instead of all at once",
    )
    args = parser.parse_args()

    # The backend's job channel gets both workers (the core gives an
    # unconfigured backend channel a capacity of 1).
    odoo = BenchOdoo(
        ["retail_integration_storefront"],
        channels="root:4,root.retail:4,root.retail.bench_shop:2",
    )
    odoo.db = os.environ.get("STOREFRONT_BENCH_DB", f"storefront2_bench_{os.getpid()}")
    try:
        print(f"installing on {odoo.db}: {odoo.install():.0f} s")
        registry = odoo.load()
        backend_id, token, currency = setup(registry)
        orm_arm(registry, 20, currency)  # warm up
        orm_rate = orm_arm(registry, args.orders, currency)
        odoo.start()  # with queue_job's runner (server_wide_modules)
        time.sleep(6)  # the runner starts 5 s after the server
        hook = webhook_arm(
            odoo, backend_id, token, args.orders, args.concurrency, currency, args.rate
        )
        lat = hook["latencies"]
        pace = f"paced at {args.rate:g}/s" if args.rate else "all at once"
        print(
            f"{args.orders} orders of 3 lines, concurrency {args.concurrency}, "
            f"{pace}, --workers=2 with queue_job's runner"
        )
        print(f"ORM create+confirm (1 process)   {orm_rate:7.1f} orders/s")
        print(
            f"webhook POST -> confirmed order  {hook['rate']:7.1f} orders/s   "
            f"p50 {percentile(lat, 0.5) * 1000:7.0f} ms   "
            f"p99 {percentile(lat, 0.99) * 1000:7.0f} ms   "
            f"({hook['confirmed']} confirmed; POSTs {hook['post_rate']:.0f}/s, "
            f"statuses {hook['statuses']})"
        )
        print(
            f"throughput ratio webhook/ORM: {hook['rate'] / orm_rate:.2f} "
            "(target >= 0.6)"
        )
    finally:
        odoo.drop()  # closes the registry's connections too


if __name__ == "__main__":
    main()
