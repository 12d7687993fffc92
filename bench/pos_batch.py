"""Store POS batches in: signed uploads of 500 tickets → pos.order rows.

A POS backend (canonical JSON, Standard Webhooks) with STORES stores of one
register each, on a real Odoo server with --workers=2 and queue_job's runner
(the backend's channel runs 2 jobs at once). The run first creates the same
orders straight through the ORM in this process, in transactions of 100
orders (the import's chunk size), in sessions of their own: the baseline.
Then it uploads STORES × TICKETS tickets of 3 lines, 5 % of them twice and
all shuffled across stores, as batches of 500 (concurrency 2) while the job
runner works, and watches the database until every ticket is a pos.order:
tickets/s end to end, beside the ORM's (target >= 0.8). Then each register
sends its Z report: the time from the last Z report to every session closed
and posted. It checks that exactly STORES × TICKETS orders exist, none twice.

    .venv/bin/python bench/pos_batch.py [--stores 10] [--tickets 2000]
"""

import argparse
import json
import os
import random
import sys
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import BenchOdoo, free_port, load_lib  # noqa: E402

standard_webhooks = load_lib("retail_integration/lib/standard_webhooks.py")

SECRET = standard_webhooks.generate_secret()
PRICES = ("12.50", "4.00", "7.25")
BATCH = 500
DUPLICATES = 0.05
DAY = date(2026, 11, 20)
CHUNK = 100


def ticket(store, n):
    quantities = (1 + n % 2, 1, 2)
    total = sum(float(p) * q for p, q in zip(PRICES, quantities, strict=True))
    return {
        "store": f"S{store:02d}",
        "register": "R1",
        "number": str(n),
        "business_date": DAY.isoformat(),
        "timestamp": "2026-11-20T10:00:00Z",
        "lines": [
            {"sku": f"BP-{i + 1}", "quantity": q, "unit_price": p}
            for i, (p, q) in enumerate(zip(PRICES, quantities, strict=True))
        ],
        "payments": [
            {"method": "cash" if n % 4 == 0 else "card", "amount": f"{total:.2f}"}
        ],
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


def setup(registry, stores):
    with env_of(registry) as env:
        company = env.company
        warehouse = env["stock.warehouse"].search(
            [("company_id", "=", company.id)], limit=1
        )
        for i, price in enumerate(PRICES):
            env["product.product"].create(
                {
                    "name": f"Bench POS {i + 1}",
                    "default_code": f"BP-{i + 1}",
                    "is_storable": True,
                    "list_price": float(price),
                    "taxes_id": [(6, 0, [])],
                }
            )
        bank = env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
        )
        card = env["pos.payment.method"].create(
            {"name": "Bench Card", "journal_id": bank.id, "company_id": company.id}
        )
        backend = env["retail.backend"].create(
            {
                "name": "Bench stores",
                "code": "bench_pos",
                "channel_type": "pos",
                "state": "active",
                "pos_chunk_size": CHUNK,
                "pos_payment_map_ids": [
                    (0, 0, {"code": "cash", "is_cash": True}),
                    (0, 0, {"code": "card", "payment_method_id": card.id}),
                ],
                "pos_store_ids": [
                    (
                        0,
                        0,
                        {
                            "name": f"Store {s:02d}",
                            "code": f"S{s:02d}",
                            "warehouse_id": warehouse.id,
                            "register_ids": [(0, 0, {"code": "R1"})],
                        },
                    )
                    for s in range(1, stores + 1)
                ],
            }
        )
        backend.action_pos_create_configs()
        endpoint = env["retail.webhook.endpoint"].create(
            {
                "name": "Bench stores",
                "backend_id": backend.id,
                "scheme": "standard",
                "secret": SECRET,
                "rate_limit": 100000,
                "rate_burst": 100000,
                "max_body_size": 8 * 1024 * 1024,
            }
        )
        # The baseline's own points of sale, like the registers'.
        configs = env["pos.config"]
        for s in range(1, stores + 1):
            cash = configs._create_cash_payment_method({"name": f"Baseline cash {s}"})
            configs |= configs.create(
                {
                    "name": f"Baseline {s}",
                    "payment_method_ids": [(6, 0, (cash | card).ids)],
                    "picking_type_id": warehouse.pos_type_id.id,
                }
            )
        return backend.id, endpoint.token, card.id, configs.ids


def orm_arm(registry, stores, tickets, card_id, config_ids):
    """The same orders straight through pos.order.create, 100 per transaction,
    in a session per store opened beforehand: orders/s."""
    with env_of(registry) as env:
        sessions = []
        for config in env["pos.config"].browse(config_ids):
            session = env["pos.session"].search(
                [("config_id", "=", config.id), ("state", "!=", "closed")], limit=1
            )
            if not session:
                session = env["pos.session"].create({"config_id": config.id})
                session.write({"state": "opened", "update_stock_at_closing": True})
            sessions.append(
                (session.id, config.payment_method_ids.filtered("is_cash_count").id)
            )
        products = {
            p.default_code: p.id
            for p in env["product.product"].search([("default_code", "like", "BP-")])
        }
    started = time.perf_counter()
    work = [(s, n) for s in range(stores) for n in range(1, tickets + 1)]
    for start in range(0, len(work), CHUNK):
        with env_of(registry) as env:
            vals_list = []
            for s, n in work[start : start + CHUNK]:
                data = ticket(s + 1, n)
                session_id, cash_id = sessions[s]
                lines = []
                total = 0.0
                for i, line in enumerate(data["lines"]):
                    amount = float(line["unit_price"]) * line["quantity"]
                    total += amount
                    lines.append(
                        (
                            0,
                            0,
                            {
                                "name": f"B{s}-{n}-{i}",
                                "product_id": products[line["sku"]],
                                "full_product_name": line["sku"],
                                "qty": line["quantity"],
                                "price_unit": float(line["unit_price"]),
                                "tax_ids": [(6, 0, [])],
                                "price_subtotal": amount,
                                "price_subtotal_incl": amount,
                            },
                        )
                    )
                payment = data["payments"][0]
                vals_list.append(
                    {
                        "session_id": session_id,
                        "name": f"B{s}/{n}",
                        "state": "paid",
                        "amount_tax": 0.0,
                        "amount_total": total,
                        "amount_paid": total,
                        "amount_return": 0.0,
                        "lines": lines,
                        "payment_ids": [
                            (
                                0,
                                0,
                                {
                                    "payment_method_id": cash_id
                                    if payment["method"] == "cash"
                                    else card_id,
                                    "amount": total,
                                    "payment_date": "2026-11-20 10:00:00",
                                },
                            )
                        ],
                    }
                )
            env["pos.order"].create(vals_list)
    return len(work) / (time.perf_counter() - started)


def signed(topic, data):
    body = json.dumps({"type": topic, "timestamp": time.time(), "data": data}).encode()
    return body, {
        "Content-Type": "application/json",
        **standard_webhooks.headers(
            SECRET, uuid.uuid4().hex, int(time.time()) + 120, body
        ),
    }


def count(db, query, params):
    import psycopg2

    with psycopg2.connect(dbname=db) as cnx, cnx.cursor() as cr:
        cr.execute(query, params)
        return cr.fetchone()


def wait_until(db, query, params, target, timeout):
    """Until ``query`` counts ``target``, or the job runner has had nothing
    to do for 15 s (something was lost: the count tells), or ``timeout``."""
    deadline = time.monotonic() + timeout
    idle_since = None
    while time.monotonic() < deadline:
        (value,) = count(db, query, params)
        if value >= target:
            return time.perf_counter(), value
        (busy,) = count(
            db,
            "SELECT count(*) FROM queue_job "
            "WHERE state IN ('pending', 'enqueued', 'started', 'wait_dependencies')",
            [],
        )
        idle_since = None if busy else (idle_since or time.monotonic())
        if idle_since and time.monotonic() - idle_since > 15:
            break
        time.sleep(0.2)
    return time.perf_counter(), count(db, query, params)[0]


def upload_arm(odoo, backend_id, token, stores, tickets):
    url = f"{odoo.url}/retail/webhook/{token}"
    all_tickets = [
        ticket(s, n) for s in range(1, stores + 1) for n in range(1, tickets + 1)
    ]
    rng = random.Random(20)
    all_tickets += rng.sample(all_tickets, int(len(all_tickets) * DUPLICATES))
    rng.shuffle(all_tickets)
    batches = [all_tickets[i : i + BATCH] for i in range(0, len(all_tickets), BATCH)]
    bodies = [signed("pos.tickets", {"tickets": b}) for b in batches]
    statuses = {}
    lock = threading.Lock()

    def worker(chunk):
        session = requests.Session()
        for body, headers in chunk:
            status = session.post(
                url, data=body, headers=headers, timeout=120
            ).status_code
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(bodies[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    posted = time.perf_counter() - started
    total = stores * tickets
    finished, imported = wait_until(
        odoo.db,
        "SELECT count(*) FROM pos_order WHERE retail_backend_id = %s",
        [backend_id],
        total,
        timeout=max(600, total / 5),
    )
    return {
        "rate": imported / (finished - started),
        "imported": imported,
        "batches": len(batches),
        "uploaded": len(all_tickets),
        "post_seconds": posted,
        "statuses": statuses,
    }


def settle_arm(odoo, backend_id, token, stores, tickets):
    url = f"{odoo.url}/retail/webhook/{token}"
    session = requests.Session()
    for s in range(1, stores + 1):
        totals = {"cash": 0.0, "card": 0.0}
        for n in range(1, tickets + 1):
            data = ticket(s, n)
            totals[data["payments"][0]["method"]] += float(
                data["payments"][0]["amount"]
            )
        body, headers = signed(
            "pos.zreport",
            {
                "store": f"S{s:02d}",
                "register": "R1",
                "business_date": DAY.isoformat(),
                "ticket_count": tickets,
                "first_number": "1",
                "last_number": str(tickets),
                "totals": [
                    {"method": k, "amount": f"{v:.2f}"} for k, v in totals.items()
                ],
            },
        )
        session.post(url, data=body, headers=headers, timeout=60).raise_for_status()
    last_z = time.perf_counter()
    finished, closed = wait_until(
        odoo.db,
        """SELECT count(*) FROM pos_session s
           JOIN retail_pos_register r ON r.id = s.retail_register_id
           WHERE r.backend_id = %s AND s.state = 'closed'""",
        [backend_id],
        stores,
        timeout=900,
    )
    return finished - last_z, closed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--tickets", type=int, default=2000, help="per store")
    args = parser.parse_args()
    odoo = BenchOdoo(
        ["retail_integration_pos"],
        channels="root:4,root.retail:4,root.retail.bench_pos:2",
        extra_conf="retail_channel_capacity = 2\n",
    )
    odoo.db = os.environ.get("POS_BENCH_DB", f"pos_bench_{os.getpid()}")
    try:
        print(f"installing on {odoo.db}: {odoo.install():.0f} s")
        registry = odoo.load()
        backend_id, token, card_id, config_ids = setup(registry, args.stores)
        orm_arm(registry, 1, 100, card_id, config_ids[:1])  # warm up
        orm_rate = orm_arm(registry, args.stores, args.tickets, card_id, config_ids)
        # with queue_job's runner (server_wide_modules); a websocket port of
        # its own (another server may hold 8072)
        odoo.start(f"--gevent-port={free_port()}")
        time.sleep(6)  # the runner starts 5 s after the server
        up = upload_arm(odoo, backend_id, token, args.stores, args.tickets)
        settle_seconds, closed = settle_arm(
            odoo, backend_id, token, args.stores, args.tickets
        )
        total = args.stores * args.tickets
        (orders, distinct, twice) = count(
            odoo.db,
            """SELECT count(*), count(DISTINCT retail_ticket_id),
                      (SELECT count(*) FROM (SELECT 1 FROM retail_pos_ticket
                         WHERE backend_id = %(b)s
                         GROUP BY store_code, register_code, number
                         HAVING count(*) > 1) AS d)
               FROM pos_order WHERE retail_backend_id = %(b)s""",
            {"b": backend_id},
        )
        (jobs, retried, job_seconds) = count(
            odoo.db,
            """SELECT count(*), coalesce(sum(retry - 1), 0),
                      coalesce(sum(extract(epoch FROM date_done - date_started)), 0)
               FROM queue_job WHERE name LIKE 'Import %%'""",
            [],
        )
        print(
            f"{args.stores} stores x {args.tickets} tickets of 3 lines, "
            f"{up['uploaded']} uploaded ({DUPLICATES:.0%} twice, shuffled) in "
            f"{up['batches']} batches of <= {BATCH}; --workers=2, queue_job runner, "
            "backend channel capacity 2"
        )
        print(f"ORM pos.order.create ({CHUNK}/transaction)  {orm_rate:7.1f} orders/s")
        print(
            f"upload -> imported pos.order           {up['rate']:7.1f} tickets/s   "
            f"(POSTs took {up['post_seconds']:.1f} s, statuses {up['statuses']})"
        )
        print(
            f"import jobs: {jobs}, attempts retried after a conflict: {retried}, "
            f"run time in all {float(job_seconds):.1f} s"
        )
        print(
            f"throughput ratio import/ORM: {up['rate'] / orm_rate:.2f} (target >= 0.8)"
        )
        print(
            f"last Z report -> {closed}/{args.stores} sessions closed and posted: "
            f"{settle_seconds:.1f} s"
        )
        print(
            f"orders {orders} (expected {total}), distinct tickets {distinct}, "
            f"tickets staged twice {twice}"
        )
    finally:
        odoo.drop()  # closes the registry's connections too


if __name__ == "__main__":
    main()
