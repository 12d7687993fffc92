"""Carrier tracking webhooks in: signed EasyPost ``tracker.updated`` events →
shipments' tracking status and history, and their pickings' status.

An EasyPost carrier backend on a real Odoo server with --workers=2 and
queue_job's runner. ``--shipments`` bought shipments (1,000), each reported
5 times (label created, in transit, in transit again, out for delivery, then
delivered; every tenth is returned to sender instead, every tenth other has
a delivery exception before its delivery), every report carrying the history
so far, as EasyPost's trackers do. The reports are shuffled (a shipment's
"in transit" often arrives after its "delivered") and 10 % of them are sent
twice (EasyPost's retries: the same event id). All are POSTed at concurrency
8, signed ``X-Hmac-Signature: hmac-sha256-hex=…``; the run watches the
database until every message is processed, then checks that every shipment
and picking has its final status, that each of the 5 events of a shipment is
recorded once, and that every duplicate was answered as one.

Figures: events/s from the first POST to the last picking updated, the POST
rate, and, as the baseline measured in the same run, the same reports
applied directly through the ORM in this process (one transaction each).
``--ingest`` also runs bench/webhook_ingest.py (its own database and server)
first and prints its figure beside these.

    .venv/bin/python bench/carrier_tracking.py [--shipments 1000] [--ingest]
"""

import argparse
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import threading
import time
import unicodedata
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import BenchOdoo, percentile  # noqa: E402

SECRET = "bench-easypost-webhook-secret"
EVENTS = 5
DUPLICATES = 0.10
TIMEOUT = 900  # seconds for every message to be processed


def signature(body):
    key = unicodedata.normalize("NFKD", SECRET).encode()
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def steps(n):
    """The 5 (status, city) reports of shipment ``n``, in the carrier's order,
    and its final status."""
    path = [
        ("pre_transit", "Memphis"),
        ("in_transit", "Memphis"),
        ("in_transit", "Oakland"),
        ("out_for_delivery", "San Francisco"),
        ("delivered", "San Francisco"),
    ]
    if n % 10 == 0:
        path[4] = ("return_to_sender", "Oakland")
    elif n % 10 == 1:
        path[3] = ("failure", "San Francisco")
    return path, path[4][0]


def reports(shipments):
    """[(body, headers, shipment id, sequence)] of every report, shuffled,
    with 10 % sent twice; {shipment id: final status}."""
    start = datetime(2025, 3, 1, 8, 0, 0)
    prepared, expected = [], {}
    for n, (shipment_id, tracker_id, code) in enumerate(shipments):
        path, final = steps(n)
        expected[shipment_id] = final
        details = []
        for k, (status, city) in enumerate(path):
            moment = (start + timedelta(hours=6 * k, minutes=n % 60)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            details.append(
                {
                    "object": "TrackingDetail",
                    "message": f"{status.replace('_', ' ')} at {city}",
                    "status": status,
                    "datetime": moment,
                    "source": "USPS",
                    "tracking_location": {"city": city, "state": "CA", "country": "US"},
                }
            )
            tracker = {
                "id": tracker_id,
                "object": "Tracker",
                "tracking_code": code,
                "status": status,
                "updated_at": moment,
                "tracking_details": list(details),
                "public_url": f"https://track.easypost.com/{tracker_id}",
            }
            body = json.dumps(
                {
                    "id": f"evt_{uuid.uuid4().hex}",
                    "object": "Event",
                    "description": "tracker.updated",
                    "result": tracker,
                }
            ).encode()
            headers = {
                "Content-Type": "application/json",
                "X-Hmac-Signature": signature(body),
            }
            prepared.append((body, headers, shipment_id, k))
    rng = random.Random(11)
    duplicates = rng.sample(prepared, int(len(prepared) * DUPLICATES))
    prepared += duplicates
    rng.shuffle(prepared)
    return prepared, expected


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


def make_shipments(env, backend, carrier, count, prefix):
    """``count`` outgoing pickings with one bought shipment each (what
    validating them on the carrier leaves): [(shipment id, tracker, code)]."""
    picking_type = env.ref("stock.picking_type_out")
    partner = env["res.partner"].create({"name": f"Bench customer {prefix}"})
    pickings = env["stock.picking"].create(
        [
            {
                "picking_type_id": picking_type.id,
                "partner_id": partner.id,
                "carrier_id": carrier.id,
                "origin": f"{prefix}-{n}",
            }
            for n in range(count)
        ]
    )
    shipments = env["retail.carrier.shipment"].create(
        [
            {
                "name": "Bulk Content",
                "picking_id": picking.id,
                "carrier_id": carrier.id,
                "backend_id": backend.id,
                "company_id": picking.company_id.id,
                "idempotency_key": f"bench-{prefix}-{picking.id}",
                "state": "bought",
                "status": "pre_transit",
                "tracker_ref": f"trk_{prefix}_{n}",
                "tracking_number": f"9400{prefix}{n:08d}",
            }
            for n, picking in enumerate(pickings)
        ]
    )
    return [(s.id, s.tracker_ref, s.tracking_number) for s in shipments]


def setup(registry, count):
    with env_of(registry) as env:
        backend = env["retail.backend"].create(
            {
                "name": "Bench EasyPost",
                "code": "bench_carrier",
                "channel_type": "carrier",
                "provider": "easypost",
                "api_key": "EZTKbench",
                "state": "active",
            }
        )
        endpoint = env["retail.webhook.endpoint"].create(
            {
                "name": "Bench EasyPost tracking",
                "backend_id": backend.id,
                "scheme": "easypost",
                "secret": SECRET,
                "rate_limit": 100000,
                "rate_burst": 100000,
            }
        )
        carrier = env["delivery.carrier"].create(
            {
                "name": "Bench USPS",
                "delivery_type": "retail_easypost",
                "product_id": env["product.product"]
                .create({"name": "Bench shipping", "type": "service"})
                .id,
                "retail_backend_id": backend.id,
            }
        )
        webhook = make_shipments(env, backend, carrier, count, "W")
        orm = make_shipments(env, backend, carrier, count, "O")
        return backend.id, endpoint.token, webhook, orm


def orm_arm(registry, prepared):
    """The same reports applied through the ORM, one transaction each."""
    from odoo.addons.retail_integration_carrier.lib.easypost_adapter import (
        EasyPostAdapter,
    )

    started = time.perf_counter()
    for body, _headers, shipment_id, _k in prepared:
        with env_of(registry) as env:
            update = EasyPostAdapter.tracking_update(json.loads(body))
            env["retail.carrier.shipment"].browse(shipment_id)._apply_tracking(update)
    return len(prepared) / (time.perf_counter() - started)


def post_all(url, prepared, concurrency):
    statuses, lock = {}, threading.Lock()
    chunks = [prepared[i::concurrency] for i in range(concurrency)]

    def worker(chunk):
        session = requests.Session()
        for body, headers, *_rest in chunk:
            status = session.post(
                url, data=body, headers=headers, timeout=60
            ).status_code
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def rows(registry, query, params=None):
    with registry.cursor() as cr:
        cr.execute(query, params or ())
        return cr.fetchall()


def check(registry, expected, label):
    """Every shipment and picking in its final status, 5 events each."""
    ids = list(expected)
    found = dict(
        rows(
            registry,
            "SELECT id, status FROM retail_carrier_shipment WHERE id = ANY(%s)",
            [ids],
        )
    )
    wrong = {i: (found.get(i), s) for i, s in expected.items() if found.get(i) != s}
    pickings = dict(
        rows(
            registry,
            """SELECT s.id, p.retail_tracking_status FROM retail_carrier_shipment s
               JOIN stock_picking p ON p.id = s.picking_id WHERE s.id = ANY(%s)""",
            [ids],
        )
    )
    wrong_pickings = [i for i, s in expected.items() if pickings.get(i) != s]
    counts = dict(
        rows(
            registry,
            """SELECT shipment_id, count(*) FROM retail_carrier_tracking_event
               WHERE shipment_id = ANY(%s) GROUP BY shipment_id""",
            [ids],
        )
    )
    not_five = [i for i in ids if counts.get(i) != EVENTS]
    print(
        f"{label}: {len(expected) - len(wrong)}/{len(expected)} shipments and "
        f"{len(expected) - len(wrong_pickings)} pickings in their final status; "
        f"{len(ids) - len(not_five)} with exactly {EVENTS} tracking events"
    )
    if wrong or wrong_pickings or not_five:
        sample = list(wrong.items())[:5]
        raise SystemExit(f"{label}: wrong final status or history, e.g. {sample}")


def run_ingest(requests_count):
    script = Path(__file__).resolve().parent / "webhook_ingest.py"
    result = subprocess.run(
        [sys.executable, str(script), "--requests", str(requests_count)],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or result.stderr.strip()[-2000:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--ingest", action="store_true")
    parser.add_argument("--ingest-requests", type=int, default=2000)
    args = parser.parse_args()

    if args.ingest:
        print("bench/webhook_ingest.py, same run:")
        print(run_ingest(args.ingest_requests))
        print()

    odoo = BenchOdoo(
        ["retail_integration_carrier"],
        channels="root:4,root.retail:4,root.retail.bench_carrier:2",
    )
    odoo.db = os.environ.get("CARRIER_BENCH_DB", f"carrier_bench_{os.getpid()}")
    try:
        print(f"installing on {odoo.db}: {odoo.install():.0f} s")
        registry = odoo.load()
        _backend, token, webhook_shipments, orm_shipments = setup(
            registry, args.shipments
        )
        prepared, expected = reports(webhook_shipments)
        orm_prepared, orm_expected = reports(orm_shipments)
        unique = len(prepared) - int(args.shipments * EVENTS * DUPLICATES)
        orm_rate = orm_arm(registry, orm_prepared)
        check(registry, orm_expected, "ORM baseline")

        odoo.start()  # with queue_job's runner (server_wide_modules)
        time.sleep(6)  # the runner starts 5 s after the server
        url = f"{odoo.url}/retail/webhook/{token}"
        started = time.perf_counter()
        statuses = post_all(url, prepared, args.concurrency)
        posted = time.perf_counter() - started
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            [(left,)] = rows(
                registry,
                "SELECT count(*) FROM retail_inbound_message "
                "WHERE state IN ('received', 'queued', 'processing')",
            )
            if not left:
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        states = dict(
            rows(
                registry,
                "SELECT state, count(*) FROM retail_inbound_message GROUP BY state",
            )
        )
        [(retried, retries)] = rows(
            registry,
            # queue_job counts the first run too: retry 1 is no retry.
            "SELECT count(*) FILTER (WHERE retry > 1), "
            "coalesce(sum(greatest(retry - 1, 0)), 0) FROM queue_job",
        )
        durations = [
            d
            for (d,) in rows(registry, "SELECT duration_ms FROM retail_inbound_message")
        ]
        print(
            f"{args.shipments} shipments × {EVENTS} events = {unique} webhooks "
            f"+ {len(prepared) - unique} duplicates, shuffled, concurrency "
            f"{args.concurrency}, --workers=2 with queue_job's runner"
        )
        print(
            f"POST statuses {statuses}; messages {states}; jobs retried "
            f"{retried} ({retries} retries: two reports of one shipment at once)"
        )
        if statuses.get(202) != unique or states.get("done") != unique:
            raise SystemExit(f"expected {unique} accepted and done messages")
        check(registry, expected, "webhooks")
        print(f"ORM apply (1 process)            {orm_rate:7.1f} events/s")
        print(
            f"webhook POST -> picking updated  {unique / elapsed:7.1f} events/s   "
            f"({elapsed:.1f} s; POSTs {len(prepared) / posted:.0f}/s; job p50 "
            f"{percentile(durations, 0.5):.0f} ms, "
            f"p99 {percentile(durations, 0.99):.0f} ms)"
        )
        print(f"throughput ratio webhook/ORM: {unique / elapsed / orm_rate:.2f}")
    finally:
        odoo.drop()  # closes the registry's connections too


if __name__ == "__main__":
    main()
