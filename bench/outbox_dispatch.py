"""Dispatch throughput: deliveries/s to a local receiver, and the lag from
the commit of the business change to its receipt (p50/p99).

A real Odoo server runs with --workers=2 and queue_job's runner; this process
commits product changes (product.changed events, one delivery each) in
transactions of --batch, and the receiver (a thread here) notes when each
webhook-id arrives. Two phases:

1. live: changes are committed as fast as this process can while the
   dispatcher sends them; gives the commit-to-receipt lag (the rate is bound
   by how fast changes are committed);
2. backlog: the same number of changes is committed with the backend paused,
   then the backend is activated; gives the dispatcher's own throughput.

    python3 bench/outbox_dispatch.py [--deliveries 2000] [--batch 100]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from outbox_common import Receiver, outbox_bench, percentile, subscribe  # noqa: E402


def job_summary(bench, label):
    """Where a delivery's wait goes: the dispatch jobs run, how long each waited
    for the runner (from its creation, or its eta) and how long it ran."""
    with bench.env() as env:
        env.cr.execute(
            """SELECT CASE WHEN result LIKE '%% sent, %%' AND result NOT LIKE '0 sent%%'
                           THEN 'sent' ELSE result END AS kind, count(*),
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
                          date_started - greatest(date_created, eta))),
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
                          date_done - date_started))
                 FROM queue_job
                WHERE method_name = '_dispatch' AND state = 'done'
                GROUP BY 1 ORDER BY 2 DESC"""
        )
        rows = env.cr.fetchall()
        env.cr.execute("DELETE FROM queue_job WHERE state = 'done'")
    for kind, count, wait, ran in rows:
        print(
            f"  {label}: {count} dispatch jobs '{kind}': median wait for the "
            f"runner {wait * 1000:.0f} ms, median run {ran * 1000:.0f} ms"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()
    bench = outbox_bench("dispatch")
    receiver = Receiver()
    try:
        print(f"install: {bench.install():.0f} s")
        bench.load()
        with bench.env() as env:
            product_ids = (
                env["product.product"]
                .create(
                    [
                        {"name": f"Item {i}", "default_code": f"ITEM-{i}"}
                        for i in range(args.deliveries)
                    ]
                )
                .ids
            )
            subscribe(env, "bench_shop", receiver.url, ["product.changed"])
        bench.start()
        time.sleep(6)  # queue_job's runner starts 5 s after the server
        committed = {}  # product id -> commit time
        started = time.time()
        for start in range(0, len(product_ids), args.batch):
            chunk = product_ids[start : start + args.batch]
            with bench.env() as env:
                for product in env["product.product"].browse(chunk):
                    product.default_code = f"{product.default_code}-v2"
            now = time.time()
            committed.update(dict.fromkeys(chunk, now))
        produced = time.time()
        deadline = produced + args.timeout
        while len(receiver.arrivals) < len(product_ids) and time.time() < deadline:
            time.sleep(0.2)
        arrivals = list(receiver.arrivals.values())
        if not arrivals:
            raise SystemExit(f"nothing received; see {bench.dir / 'server.log'}")
        lags = [when - committed[body["data"]["id"]] for when, body in arrivals]
        first_commit = min(committed.values())
        last = max(when for when, _body in arrivals)
        print(
            f"committed {len(product_ids)} changes in {produced - started:.2f} s "
            f"({len(product_ids) / (produced - started):.0f}/s)"
        )
        print(
            f"received {len(arrivals)}/{len(product_ids)} deliveries "
            f"({receiver.requests} requests)"
        )
        print(
            f"live: {len(arrivals) / (last - first_commit):.0f} deliveries/s "
            f"from first commit to last receipt ({last - first_commit:.2f} s)"
        )
        print(
            f"lag commit->receipt: p50 {percentile(lags, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(lags, 0.99) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms"
        )

        warm = [
            when - committed[body["data"]["id"]]
            for when, body in arrivals
            if committed[body["data"]["id"]] > first_commit + 1
        ]
        print(
            "lag after the first second (workers warm): "
            f"p50 {percentile(warm, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(warm, 0.99) * 1000:.0f} ms"
        )
        job_summary(bench, "live")

        # Phase 2: a backlog drained by the dispatcher alone.
        with bench.env() as env:
            env["retail.backend"].search([("code", "=", "bench_shop")]).action_pause()
        for start in range(0, len(product_ids), args.batch):
            with bench.env() as env:
                for product in env["product.product"].browse(
                    product_ids[start : start + args.batch]
                ):
                    product.default_code = f"{product.default_code}-v3"
        received_before = len(receiver.arrivals)
        with bench.env() as env:
            env["retail.backend"].search(
                [("code", "=", "bench_shop")]
            ).action_activate()
            env["retail.event.subscription"].search([])._enqueue_dispatch()
        resumed = time.time()
        target = received_before + len(product_ids)
        while len(receiver.arrivals) < target and time.time() < resumed + args.timeout:
            time.sleep(0.1)
        drained = [
            when for when, _body in receiver.arrivals.values() if when >= resumed
        ]
        elapsed = max(drained) - resumed
        rate = len(drained) / elapsed
        print(
            f"backlog of {len(product_ids)}: {len(drained)} received in "
            f"{elapsed:.2f} s after resuming: dispatch throughput {rate:.0f} "
            f"deliveries/s (target >= 500)"
        )
    finally:
        receiver.stop()
        bench.drop()


if __name__ == "__main__":
    main()
