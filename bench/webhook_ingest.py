"""Inbound webhook ingestion against Odoo with --workers=2.

Signed Standard Webhooks POSTs at concurrency 8 to /retail/webhook/<token>,
beside the same load on a no-op auth='none' POST route in the same server:
accepted requests/s, p50/p99 latency, and the ratio of the two throughputs.
A third route that only INSERTs the body into a table and commits shows what
any durable accept costs on this machine.
The job runner is off during the load (its jobs would take the same 2
workers); each accepted request still stores its message (and the first one
its backend's drain job: no job per message), and the script checks that it
did. The webhooks' figure is reported against the one-INSERT route (target
>= 0.85, p99 < 50 ms: issue 15).

With ``--with MODULE``: what MODULE adds to the accept path instead, on two
servers (one with it, both with what it depends on), loads alternated.

    python3 bench/webhook_ingest.py [--requests 2000] [--concurrency 8]
        [--rounds 4] [--with MODULE [--rounds 6]]
"""

import argparse
import json
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    BenchOdoo,
    combined,
    dependencies,
    load_lib,
    percentile,
)

standard_webhooks = load_lib("retail_integration/lib/standard_webhooks.py")

SECRET = standard_webhooks.generate_secret()


def signed_requests(count):
    """Pre-signed (body, headers): the client's signing is not what we measure."""
    prepared = []
    for n in range(count):
        msg_id = uuid.uuid4().hex
        body = json.dumps({"type": "ping", "data": {"n": n, "pad": "x" * 400}}).encode()
        timestamp = int(time.time()) + 60  # still within tolerance when sent
        prepared.append(
            (
                body,
                {
                    "Content-Type": "application/json",
                    **standard_webhooks.headers(SECRET, msg_id, timestamp, body),
                },
            )
        )
    return prepared


def load(url, prepared, concurrency):
    """POST every prepared request; return (requests/s, latencies, statuses)."""
    latencies, statuses, lock = [], {}, threading.Lock()
    chunks = [prepared[i::concurrency] for i in range(concurrency)]

    def worker(chunk):
        session = requests.Session()
        for body, headers in chunk:
            started = time.perf_counter()
            status = session.post(
                url, data=body, headers=headers, timeout=30
            ).status_code
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(prepared) / (time.perf_counter() - started), latencies, statuses


def report(label, rate, latencies, statuses):
    print(
        f"{label:<24} {rate:7.1f} req/s   "
        f"p50 {percentile(latencies, 0.5) * 1000:6.1f} ms   "
        f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms   statuses {statuses}"
    )


def webhook_server(modules=(), db_prefix="drain_bench_"):
    # Root channel capacity 0: queue_job starts no job runner, whose jobs
    # would take the same 2 workers. (Leaving queue_job out of --load does
    # not stop it: importing the addon starts the runner all the same.)
    return BenchOdoo(
        ["retail_integration_webhook", "retail_bench_noop", *modules],
        channels="root:0",
        db_prefix=db_prefix,
    )


def open_endpoint(odoo):
    """Install and start ``odoo`` with a signed endpoint; its URL."""
    print(f"installing on {odoo.db}: {odoo.install():.0f} s")
    odoo.start()
    backend = odoo.rpc(
        "retail.backend",
        "create",
        {"name": "Bench", "code": "bench", "state": "active"},
    )
    endpoint = odoo.rpc(
        "retail.webhook.endpoint",
        "create",
        {
            "name": "Bench",
            "backend_id": backend,
            "scheme": "standard",
            "secret": SECRET,
            "rate_limit": 100000,
            "rate_burst": 100000,
        },
    )
    token = odoo.rpc("retail.webhook.endpoint", "read", [endpoint], ["token"])[0][
        "token"
    ]
    return f"{odoo.url}/retail/webhook/{token}"


def check_stored(odoo, accepted):
    """Every accepted request committed its message; one drain job for all."""
    stored = (
        odoo.rpc("retail.inbound.message", "search_count", [("state", "=", "queued")]),
        odoo.rpc("queue.job", "search_count", [("state", "=", "pending")]),
    )
    if stored != (accepted, 1):
        raise SystemExit(
            f"expected {accepted} queued messages and one pending drain job on "
            f"{odoo.db}, got {stored}"
        )


def against_routes(args):
    odoo = webhook_server()
    try:
        hook_url = open_endpoint(odoo)
        noop_url = f"{odoo.url}/retail/bench/noop"
        insert_url = f"{odoo.url}/retail/bench/insert"
        plain = signed_requests(1)[:1]  # the same body, unsigned: no check reads it
        plain = [(plain[0][0], {"Content-Type": "application/json"})]

        load(noop_url, plain * 200, args.concurrency)  # warm all three up
        load(insert_url, plain * 200, args.concurrency)
        load(hook_url, signed_requests(200), args.concurrency)

        # Rounds alternated, so that the machine's drift (other processes,
        # the table growing) weighs on the three routes alike.
        per_round = args.requests // args.rounds
        runs = {"noop": [], "insert": [], "hook": []}
        for _round in range(args.rounds):
            runs["noop"].append(load(noop_url, plain * per_round, args.concurrency))
            runs["insert"].append(load(insert_url, plain * per_round, args.concurrency))
            runs["hook"].append(
                load(hook_url, signed_requests(per_round), args.concurrency)
            )
        noop, insert, hook = (combined(runs[k]) for k in ("noop", "insert", "hook"))
        check_stored(odoo, 200 + per_round * args.rounds)  # warm-up included
        print(
            f"{per_round * args.rounds} requests per route in {args.rounds} "
            f"alternated rounds, concurrency {args.concurrency}, --workers=2"
        )
        report("no-op auth='none' route", *noop)
        report("one INSERT + COMMIT route", *insert)
        report("signed webhooks", *hook)
        print(f"throughput ratio webhook/no-op: {hook[0] / noop[0]:.2f}")
        print(f"throughput ratio one-INSERT route/no-op: {insert[0] / noop[0]:.2f}")
        print(
            f"throughput ratio webhook/one-INSERT route: {hook[0] / insert[0]:.2f} "
            "(target >= 0.85)"
        )
        print(
            f"webhook p99: {percentile(hook[1], 0.99) * 1000:.1f} ms (target < 50 ms)"
        )
    finally:
        odoo.drop()


def against_modules(args):
    """Signed webhooks on a server without the modules of ``--with`` and on
    one with them (both with what they depend on), loads alternated."""
    deps = dependencies(args.extra)
    servers = {
        "without": webhook_server(deps),
        "with": webhook_server(args.extra, db_prefix="drain_bench_with_"),
    }
    try:
        urls = {side: open_endpoint(odoo) for side, odoo in servers.items()}
        for url in urls.values():
            load(url, signed_requests(200), args.concurrency)  # warm-up
        per_round = args.requests // args.rounds
        times = {side: 0.0 for side in servers}
        latencies = {side: [] for side in servers}
        for _round in range(args.rounds):
            for side, url in urls.items():
                rate, lat, statuses = load(
                    url, signed_requests(per_round), args.concurrency
                )
                if set(statuses) != {202}:
                    raise SystemExit(f"{side}: statuses {statuses}")
                times[side] += per_round / rate
                latencies[side] += lat
        total = per_round * args.rounds
        for side, odoo in servers.items():
            check_stored(odoo, 200 + total)
            print(
                f"{side} {', '.join(args.extra)}: {total / times[side]:7.1f} req/s   "
                f"p99 {percentile(latencies[side], 0.99) * 1000:6.1f} ms"
            )
        print(
            f"time per webhook with / without: {times['with'] / times['without']:.3f} "
            f"(target <= 1.02; {args.rounds} alternated rounds of {per_round})"
        )
    finally:
        for odoo in servers.values():
            odoo.drop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--with",
        dest="extra",
        action="append",
        default=[],
        metavar="MODULE",
        help="instead: two servers, one with this module (e.g. "
        "retail_integration_monitoring), both with what it depends on; what the "
        "module adds to the accept path",
    )
    parser.add_argument(
        "--rounds", type=int, help="alternated rounds (default 4; 6 with --with)"
    )
    args = parser.parse_args()
    args.rounds = args.rounds or (6 if args.extra else 4)
    if args.extra:
        against_modules(args)
    else:
        against_routes(args)


if __name__ == "__main__":
    main()
