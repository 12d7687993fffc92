"""Capture overhead: confirm sale orders without, then with, subscriptions.

Each order is created and confirmed in a transaction of its own, as a user
would; with subscriptions, each confirmation also writes its events
(order.confirmed, stock.level_changed of the reserved product), their
deliveries and the dispatch job row. No dispatcher runs: only the cost in the
business transaction is measured. Rounds alternate to even out noise.

With ``--with MODULE``, what installing MODULE adds to the capture instead:
two databases, one with it, the same orders with subscriptions on both,
rounds alternated in this process.

    python3 bench/outbox_capture.py [--orders 500] [--rounds 2] [--with MODULE]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import dependencies  # noqa: E402
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


def prepare(bench):
    """Install, load and stock the bench database; its customer and products."""
    print(f"install {bench.db}: {bench.install():.0f} s")
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
    return partner_id, product_ids


def set_subscriptions(bench, active):
    with bench.env() as env:
        subs = env["retail.event.subscription"].with_context(active_test=False)
        if active and not subs.search([]):
            for code in ("bench_shop", "bench_pos"):
                subscribe(env, code, "http://127.0.0.1:9/unused", ALL_TYPES)
        subs.search([]).write({"active": active})


def compare_subscriptions(bench, args):
    """The capture's own cost: the same orders without, then with, two
    subscriptions of every event type, rounds alternated."""
    data = prepare(bench)
    per_round = args.orders // args.rounds
    without = with_subs = 0.0
    for _round in range(args.rounds):
        set_subscriptions(bench, False)
        without += confirm_orders(bench, per_round, *data)
        set_subscriptions(bench, True)
        with_subs += confirm_orders(bench, per_round, *data)
    with bench.env() as env:
        events = env["retail.outbox.event"].search_count([])
        deliveries = env["retail.outbox.delivery"].search_count([])
    total = per_round * args.rounds
    print(
        f"orders confirmed: {total} without subscriptions, {total} with 2 subscriptions"
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


def compare_modules(plain, extended, args):
    """What installing other modules adds to the capture: the same orders,
    with the same subscriptions, on a database without them and on one with
    them, in this process, rounds alternated."""
    data = {bench: prepare(bench) for bench in (plain, extended)}
    for bench in (plain, extended):
        set_subscriptions(bench, True)
    per_round = args.orders // args.rounds
    spent = {plain: 0.0, extended: 0.0}
    for _round in range(args.rounds):
        for bench in (plain, extended):
            spent[bench] += confirm_orders(bench, per_round, *data[bench])
    total = per_round * args.rounds
    for label, bench in (("without", plain), ("with", extended)):
        print(
            f"{label} {', '.join(args.extra)}: {total} orders in "
            f"{spent[bench]:.2f} s ({spent[bench] / total * 1000:.1f} ms/order)"
        )
    ratio = spent[extended] / spent[plain]
    print(f"with / without: {ratio:.3f} (what {', '.join(args.extra)} adds)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--with",
        dest="extra",
        action="append",
        default=[],
        metavar="MODULE",
        help="compare a database with this module too against one without it "
        "(e.g. retail_integration_monitoring), subscriptions on in both",
    )
    args = parser.parse_args()
    if args.extra:
        # Both databases hold what the module depends on: only it differs.
        deps = dependencies(args.extra)
        benches = [
            outbox_bench("capture", deps),
            outbox_bench("capture_with", [*deps, *args.extra]),
        ]
    else:
        benches = [outbox_bench("capture")]
    try:
        if args.extra:
            compare_modules(*benches, args)
        else:
            compare_subscriptions(benches[0], args)
    finally:
        for bench in benches:
            bench.drop()


if __name__ == "__main__":
    main()
