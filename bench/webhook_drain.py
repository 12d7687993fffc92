"""Inbound drains: webhooks accepted with the job runner off, then drained.

On a real Odoo server with --workers=2: N light signed webhooks (``ping``:
the handler writes nothing but its message's row) are POSTed at concurrency
8 while the server runs without queue_job's runner; the server is restarted
with its runner, and the database is watched until every message is done:
messages/s processed, from the first one seen done to the last (the runner's
start is left out). Then the same for M storefront orders (signed
``order.created``, 3 lines, paid: a confirmed ``sale.order`` each), orders/s.
Compare the orders with ``storefront_orders.py`` (one job per message before
the drains, its figures in bench/README.md).

    .venv/bin/python bench/webhook_drain.py [--messages 20000] [--orders 2000]
"""

import argparse
import sys
import time
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))

import storefront_orders  # noqa: E402
import webhook_ingest  # noqa: E402
from harness import BenchOdoo  # noqa: E402

SHOP_CHANNELS = "root:4,root.retail:4,root.retail.bench_shop:2"


def runner(odoo, on):
    """Root channel capacity 0: queue_job starts no job runner."""
    text = odoo.conf.read_text()
    current = text.split("channels = ", 1)[1].splitlines()[0]
    odoo.conf.write_text(
        text.replace(
            f"channels = {current}", f"channels = {SHOP_CHANNELS if on else 'root:0'}"
        )
    )


def count(db, query, params):
    with psycopg2.connect(dbname=db) as cnx, cnx.cursor() as cr:
        cr.execute(query, params)
        return cr.fetchone()[0]


def watch(db, query, params, total, timeout):
    """Seconds from the first to the last item seen done (polled every 0.1 s),
    and how many were done at the first look."""
    first = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = count(db, query, params)
        now = time.perf_counter()
        if done and first is None:
            first = (now, done)
        if done >= total:
            return now - first[0], first[1]
        time.sleep(0.1)
    raise SystemExit(f"only {done} of {total} done within {timeout} s")


def light_backend(registry):
    with storefront_orders.env_of(registry) as env:
        backend = env["retail.backend"].create(
            {"name": "Light", "code": "light", "state": "active"}
        )
        endpoint = env["retail.webhook.endpoint"].create(
            {
                "name": "Light",
                "backend_id": backend.id,
                "scheme": "standard",
                "secret": webhook_ingest.SECRET,
                "rate_limit": 100000,
                "rate_burst": 100000,
            }
        )
        return backend.id, endpoint.token


def drained(odoo, label, total, query, params, timeout):
    odoo.stop()
    runner(odoo, on=True)
    odoo.start()
    seconds, early = watch(odoo.db, query, params, total, timeout)
    rate = (total - early) / seconds if seconds else float("inf")
    print(f"{label}: {total} drained, {rate:8.1f}/s ({seconds:.1f} s)")
    odoo.stop()
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    # As storefront_orders.py: the shop's channel gets both workers, and two
    # drains of its messages may run at once.
    odoo = BenchOdoo(
        ["retail_integration_storefront"],
        channels=SHOP_CHANNELS,
        db_prefix="drain_bench_",
        extra_conf="retail_webhook_drains_per_backend = 2\n",
    )
    try:
        print(f"installing on {odoo.db}: {odoo.install():.0f} s")
        registry = odoo.load()
        light, light_token = light_backend(registry)
        shop, shop_token, currency = storefront_orders.setup(registry)

        runner(odoo, on=False)
        odoo.start()
        rate, latencies, statuses = webhook_ingest.load(
            f"{odoo.url}/retail/webhook/{light_token}",
            webhook_ingest.signed_requests(args.messages),
            args.concurrency,
        )
        print(f"{args.messages} light webhooks accepted, runner off: {rate:.1f} req/s")
        assert statuses == {202: args.messages}, statuses
        drains = count(
            odoo.db,
            "SELECT count(*) FROM queue_job WHERE method_name = '_webhook_drain'",
            [],
        )
        print(f"queue_job rows for them: {drains}")
        drained(
            odoo,
            "light webhooks",
            args.messages,
            """SELECT count(*) FROM retail_inbound_message
               WHERE backend_id = %s AND state = 'done'""",
            [light],
            timeout=600,
        )

        if args.orders:
            runner(odoo, on=False)
            odoo.start()
            prepared = [
                storefront_orders.signed(storefront_orders.order_data("W", n, currency))
                for n in range(args.orders)
            ]
            rate, _lat, statuses = webhook_ingest.load(
                f"{odoo.url}/retail/webhook/{shop_token}", prepared, args.concurrency
            )
            print(
                f"{args.orders} order webhooks accepted, runner off: {rate:.1f} req/s"
            )
            assert statuses == {202: args.orders}, statuses
            drained(
                odoo,
                "storefront orders (confirmed sale orders)",
                args.orders,
                """SELECT count(*) FROM sale_order
                   WHERE retail_backend_id = %s AND state = 'sale'""",
                [shop],
                timeout=3600,
            )
    finally:
        odoo.drop()  # closes the registry's connections too


if __name__ == "__main__":
    main()
