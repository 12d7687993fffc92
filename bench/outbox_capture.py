"""Capture overhead: confirm sale orders without, then with, subscriptions.

Each order is created and confirmed in a transaction of its own, as a user
would; with subscriptions, each confirmation also writes its events
(order.confirmed, stock.level_changed of the reserved product), their
deliveries and the dispatch job row. No dispatcher runs: only the cost in the
business transaction is measured. Rounds alternate to even out noise.

    python3 bench/outbox_capture.py [--orders 500] [--rounds 2]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from outbox_common import outbox_bench, subscribe  # noqa: E402

ALL_TYPES = [
    "order.confirmed",
    "order.cancelled",
    "invoice.paid",
    "stock.level_changed",
    "shipment.dispatched",
    "product.changed",
    "price.changed",
]


def confirm_orders(bench, count, partner_id, product_ids):
    started = time.perf_counter()
    for n in range(count):
        with bench.env() as env:
            env["sale.order"].create(
                {
                    "partner_id": partner_id,
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": product_ids[n % len(product_ids)],
                                "product_uom_qty": 1,
                            },
                        )
                    ],
                }
            ).action_confirm()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    bench = outbox_bench("capture")
    try:
        print(f"install: {bench.install():.0f} s")
        bench.load()
        with bench.env() as env:
            partner = env["res.partner"].create({"name": "Bench Customer"})
            products = env["product.product"].create(
                [
                    {
                        "name": f"Bench {i}",
                        "default_code": f"BENCH-{i}",
                        "is_storable": True,
                    }
                    for i in range(20)
                ]
            )
            warehouse = env["stock.warehouse"].search([], limit=1)
            for product in products:
                env["stock.quant"]._update_available_quantity(
                    product, warehouse.lot_stock_id, 100000
                )
            partner_id, product_ids = partner.id, products.ids
        confirm_orders(bench, 20, partner_id, product_ids)  # warm-up
        per_round = args.orders // args.rounds
        without = with_subs = 0.0
        for _round in range(args.rounds):
            with bench.env() as env:
                env["retail.event.subscription"].search([]).write({"active": False})
            without += confirm_orders(bench, per_round, partner_id, product_ids)
            with bench.env() as env:
                subs = env["retail.event.subscription"].with_context(active_test=False)
                if not subs.search([]):
                    for code in ("bench_shop", "bench_pos"):
                        subscribe(env, code, "http://127.0.0.1:9/unused", ALL_TYPES)
                subs.search([]).write({"active": True})
            with_subs += confirm_orders(bench, per_round, partner_id, product_ids)
        with bench.env() as env:
            events = env["retail.outbox.event"].search_count([])
            deliveries = env["retail.outbox.delivery"].search_count([])
        total = per_round * args.rounds
        print(
            f"orders confirmed: {total} without subscriptions, "
            f"{total} with 2 subscriptions"
        )
        print(
            f"without: {without:.2f} s ({total / without:.1f} orders/s, "
            f"{without / total * 1000:.1f} ms/order)"
        )
        print(
            f"with:    {with_subs:.2f} s ({total / with_subs:.1f} orders/s, "
            f"{with_subs / total * 1000:.1f} ms/order)"
        )
        print(f"events written: {events}, deliveries: {deliveries}")
        print(f"capture overhead ratio: {with_subs / without:.3f} (target <= 1.10)")
    finally:
        bench.drop()


if __name__ == "__main__":
    main()
