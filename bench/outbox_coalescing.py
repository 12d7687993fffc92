"""Burst coalescing: stock moves on a few SKUs while the receiver is down,
then recovery: how many deliveries are sent, and the time to drain.

Each stock move (stock to customers, validated) is a transaction of its own,
committed from this process; a dispatcher run (the job's method, called here)
follows every --dispatch-every moves, as the job runner would. During the
outage the receiver answers 503: attempts fail, the circuit opens, and
pending stock levels of each SKU merge into one delivery. At recovery the
clock is moved on to the next probe (its wait is not measured) and dispatcher
runs are made until nothing is left.

    python3 bench/outbox_coalescing.py [--moves 2000] [--skus 20]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from outbox_common import Receiver, outbox_bench, subscribe  # noqa: E402


def dispatch(bench, sub_id):
    with bench.env() as env:
        return env["retail.event.subscription"].browse(sub_id)._dispatch()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=2000)
    parser.add_argument("--skus", type=int, default=20)
    parser.add_argument("--dispatch-every", type=int, default=50)
    args = parser.parse_args()
    bench = outbox_bench("coalescing")
    receiver = Receiver()
    try:
        print(f"install: {bench.install():.0f} s")
        bench.load()
        with bench.env() as env:
            products = env["product.product"].create(
                [
                    {
                        "name": f"SKU {i}",
                        "default_code": f"SKU-{i}",
                        "is_storable": True,
                    }
                    for i in range(args.skus)
                ]
            )
            warehouse = env["stock.warehouse"].search([], limit=1)
            for product in products:
                env["stock.quant"]._update_available_quantity(
                    product, warehouse.lot_stock_id, args.moves
                )
            sub_id = subscribe(
                env, "burst_shop", receiver.url, ["stock.level_changed"]
            ).id
            product_ids = products.ids
            source, dest = (
                warehouse.lot_stock_id.id,
                env.ref("stock.stock_location_customers").id,
            )
        receiver.status = 503
        started = time.perf_counter()
        for n in range(args.moves):
            with bench.env() as env:
                product = env["product.product"].browse(
                    product_ids[n % len(product_ids)]
                )
                move = env["stock.move"].create(
                    {
                        "name": "burst",
                        "product_id": product.id,
                        "product_uom_qty": 1,
                        "product_uom": product.uom_id.id,
                        "location_id": source,
                        "location_dest_id": dest,
                    }
                )
                move._action_confirm()
                move._action_assign()
                move.quantity = 1
                move.picked = True
                move._action_done()
            if (n + 1) % args.dispatch_every == 0:
                dispatch(bench, sub_id)
        burst = time.perf_counter() - started
        outage_requests = receiver.requests
        with bench.env() as env:
            events = env["retail.outbox.event"].search_count([])
            backlog = env["retail.outbox.delivery"].search_count(
                [("state", "in", ("pending", "failed"))]
            )
            state = env["retail.event.subscription"].browse(sub_id).state
        print(
            f"{args.moves} stock moves over {args.skus} SKUs in {burst:.1f} s; "
            f"{events} stock level events; {outage_requests} failed attempts "
            f"during the outage; subscription {state}; backlog {backlog} deliveries"
        )
        receiver.status = 200
        recovered = time.perf_counter()
        with bench.env() as env:
            env["retail.event.subscription"].browse(sub_id).probe_at = "2000-01-01"
            env["retail.outbox.delivery"].search(
                [("state", "in", ("pending", "failed"))]
            ).next_attempt = "2000-01-01"
        runs = 0
        while True:
            runs += 1
            dispatch(bench, sub_id)
            with bench.env() as env:
                left = env["retail.outbox.delivery"].search_count(
                    [("state", "in", ("pending", "failed"))]
                )
            if not left or runs > 50:
                break
        drain = time.perf_counter() - recovered
        sent = len(receiver.arrivals)
        levels = {
            body["data"]["product"]["sku"]: body["data"]["free_qty"]
            for _when, body in receiver.arrivals.values()
        }
        expected = args.moves - args.moves // len(product_ids)
        correct = sum(1 for qty in levels.values() if qty == expected)
        print(
            f"recovery: {sent} deliveries sent (target <= 40) in {drain:.2f} s over "
            f"{runs} dispatcher runs; {correct}/{len(product_ids)} SKUs received their "
            f"final free quantity ({expected})"
        )
    finally:
        receiver.stop()
        bench.drop()


if __name__ == "__main__":
    main()
