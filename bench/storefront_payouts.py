"""Storefront payouts: a Stripe payout of N orders, with refunds and fees,
matched and posted.

On a throw-away database (the storefront module, no demo data), in this
process: N paid channel orders are imported through the storefront importer
(confirmed, invoiced, their payment registered in the Stripe journal), one a
transaction as their jobs do (``--batch``: more): orders/s, the rate the
payout's orders arrive at. Then one
``payout.paid`` is recorded as its job does: the balance transactions are
read, 100 a page, from a local stand-in of Stripe's API (N charges with their
fees, one refund in 20), matched to the orders, and posted as one entry
reconciled with the invoices: seconds to record and reconcile.

    .venv/bin/python bench/storefront_payouts.py [--orders 5000]
"""

import argparse
import json
import sys
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import BenchOdoo  # noqa: E402

KEY = "rk_bench"
TOTAL = Decimal("47.00")  # each order: 2 x 20.00 + 7.00 shipping
FEE = 166  # cents


class Stripe(BaseHTTPRequestHandler):
    """GET /v1/balance_transactions?payout=…: the payout's transactions."""

    disable_nagle_algorithm = True
    transactions = []

    def do_GET(self):
        query = parse_qs(urlparse(self.path).query)
        items = self.transactions
        after = query.get("starting_after", [None])[0]
        if after:
            items = items[int(after.split("_")[1]) + 1 :]
        limit = int(query.get("limit", ["10"])[0])
        body = json.dumps(
            {"object": "list", "has_more": len(items) > limit, "data": items[:limit]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def transactions(count):
    items = []
    for n in range(count):
        items.append(_txn(len(items), "charge", 4700, FEE, f"B-{n}"))
        if n % 20 == 0:
            items.append(_txn(len(items), "refund", -1000, 0, f"B-{n}"))
    return items


def _txn(index, kind, amount, fee, order_id):
    return {
        "id": f"txn_{index}",
        "object": "balance_transaction",
        "amount": amount,
        "currency": "usd",
        "fee": fee,
        "net": amount - fee,
        "type": kind,
        "source": {"id": f"src_{index}", "metadata": {"order_id": order_id}},
    }


def setup(env, url):
    company = env.company
    usd = env.ref("base.USD")
    usd.active = True
    company.currency_id = usd
    warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)])[:1]
    env["product.product"].create(
        {
            "name": "Bench mug",
            "default_code": "PAY-1",
            "type": "consu",
            "list_price": 20,
            "taxes_id": [(6, 0, [])],
        }
    )
    journals = env["account.journal"]
    stripe_journal, bank = (
        journals.create({"name": name, "code": code, "type": "bank"})
        for name, code in (("Stripe", "BSTR"), ("Bench bank", "BBNK"))
    )
    fees = env["account.account"].create(
        {"name": "Bench fees", "code": "626900", "account_type": "expense"}
    )
    backend = env["retail.backend"].create(
        {
            "name": "Bench payouts",
            "code": "bench_payouts",
            "channel_type": "storefront",
            "provider": "generic",
            "state": "active",
            "warehouse_id": warehouse.id,
            "pricelist_id": env["product.pricelist"]
            .create({"name": "Bench", "currency_id": usd.id})
            .id,
            "storefront_invoice_paid": True,
            "storefront_payment_journal_id": stripe_journal.id,
            "storefront_stripe_key": KEY,
            "storefront_stripe_api_url": url,
            "storefront_payout_journal_id": bank.id,
            "storefront_fee_account_id": fees.id,
        }
    )
    return backend.id


def import_orders(odoo, backend_id, count, batch=1):
    from odoo.addons.retail_integration.lib.canonical import (
        Customer,
        Line,
        Order,
        Shipping,
    )

    started = time.perf_counter()
    for first in range(0, count, batch):
        # one order a transaction by default, as its webhook's job does
        with odoo.env() as env:
            backend = env["retail.backend"].browse(backend_id)
            importer = env["retail.storefront.importer"]
            for n in range(first, min(first + batch, count)):
                order = Order(
                    external_id=f"B-{n}",
                    name=f"#B-{n}",
                    currency="USD",
                    total=TOTAL,
                    lines=(Line("PAY-1", Decimal(2), Decimal(20)),),
                    financial_status="paid",
                    customer=Customer(
                        external_id=f"C-{n % 50}", email=f"c{n % 50}@example.com"
                    ),
                    shipping=(Shipping("Standard", Decimal(7)),),
                    gateway="stripe",
                )
                importer._import_order(backend, order)
    return count / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="orders a transaction (1: as the webhook jobs import them)",
    )
    parser.add_argument(
        "--db-prefix", default="payout_bench_", help="the throw-away database's name"
    )
    args = parser.parse_args()
    Stripe.transactions = transactions(args.orders)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stripe)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"

    odoo = BenchOdoo(["retail_integration_storefront"], db_prefix=args.db_prefix)
    try:
        print(f"installing on {odoo.db}: {odoo.install():.0f} s")
        odoo.load()
        from odoo.addons.retail_integration_storefront.lib.payout import Payout
        from odoo.addons.retail_integration_storefront.lib.stripe import StripeClient

        with odoo.env() as env:
            backend_id = setup(env, url)
        rate = import_orders(odoo, backend_id, args.orders, max(args.batch, 1))
        net = sum(Decimal(t["net"]) for t in Stripe.transactions) / 100
        started = time.perf_counter()
        with odoo.env() as env:
            backend = env["retail.backend"].browse(backend_id)
            client = StripeClient(KEY, url)
            payout, summary = env["retail.storefront.payout"]._record(
                backend,
                Payout("po_bench", net, "USD"),
                lambda: client.payout_lines("po_bench"),
            )
            lines, state = len(payout.line_ids), payout.state
        seconds = time.perf_counter() - started
        print(
            f"{args.orders} paid orders imported, invoiced and paid: {rate:.1f} "
            f"orders/s ({args.orders / rate:.0f} s)"
        )
        print(
            f"payout of {lines} transactions read, matched and posted: "
            f"{seconds:.1f} s ({lines / seconds:.0f} lines/s) -> {state}: {summary}"
        )
    finally:
        server.shutdown()
        odoo.drop()  # closes the registry's connections too


if __name__ == "__main__":
    main()
