"""The monitoring dashboard and the metrics endpoint on a filled database.

Fills a throw-away database by SQL with inbound messages, events with their
deliveries and exceptions spread over 90 days across 10 storefront backends
(one webhook endpoint and one webhook subscription each), rolls up the last
48 hours, then measures:

- dashboard load, server time, in this process: the kanban's read
  (``web_search_read`` with the card's fields: what opening the dashboard
  costs) and the measure of every flow (``_refresh_health``: what the
  minutely cron and the Refresh button run; with and without counting the
  dead items, which the cron does every 10 minutes), each the median of
  ``--rounds``; baseline: a ``web_search_read`` of the backends;
- scrape: ``GET /retail/metrics`` with a bearer token against the real
  server (``--workers=2``), served from the monitoring cron's stored measure
  (the usual case: the cron runs every minute), then with that measure a
  day old (the cron stopped: served all the same, with its age): wall time per request
  (median, p95) and the server's own time
  (``retail_monitoring_scrape_duration_seconds`` in the body); baseline:
  ``GET /web/health`` on the same server.

The full-scale target is 1,000,000 messages, 2,000,000 deliveries and
50,000 exceptions (under 300 ms each); the defaults are a tenth of it for the
shared 2-core machine.

    python3 bench/monitoring_dashboard.py [--messages 100000]
        [--deliveries 200000] [--exceptions 5000] [--rounds 10]
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import BenchOdoo, percentile  # noqa: E402

BACKENDS = 10
TOKEN = "bench-scrape-token-0123456789abcdef"
CARD_FIELDS = [
    "name", "sla_state", "color", "direction", "data_kind", "sync_display",
    "sparkline", "volume_1h", "volume_24h", "failure_display", "backlog_count",
    "dead_count", "oldest_display", "lag_display", "last_success",
    "circuit_state", "circuit_reason", "sla_reason", "open_incident_count",
]  # fmt: skip

MESSAGES = """
INSERT INTO retail_inbound_message
    (endpoint_id, backend_id, company_id, topic, delivery_id, correlation_id,
     received_at, body, body_hash, headers, state, attempts, processed_at,
     duration_ms, create_uid, create_date, write_uid, write_date)
SELECT e.id, e.backend_id, e.company_id,
       CASE WHEN n %% 10 = 0 THEN 'products/update' ELSE 'orders/create' END,
       'bench-' || n, 'corr-' || n, t.at, '{}', 'h', '{}'::jsonb,
       CASE WHEN r < 0.03 THEN 'failed' WHEN r < 0.035 THEN 'queued' ELSE 'done' END,
       1, CASE WHEN r >= 0.035 OR r < 0.03
               THEN t.at + (random() * 5) * interval '1 second' END,
       20, 1, t.at, 1, t.at
  FROM generate_series(1, %(count)s) n
  CROSS JOIN LATERAL (SELECT random() + 0 * n AS r,
       (now() at time zone 'utc') - (random() + 0 * n) * interval '90 days' AS at) t
  JOIN retail_webhook_endpoint e
    ON e.id = (%(endpoints)s::int[])[1 + n %% %(backends)s]
"""

EVENTS = """
INSERT INTO retail_outbox_event
    (uuid, event_type, aggregate_model, aggregate_id, aggregate_key, sequence,
     version, payload, occurred_at, company_id, correlation_id,
     create_uid, create_date, write_uid, write_date)
SELECT md5(n::text || random()::text), 'order.confirmed', 'sale.order', n,
       'sale.order,' || n, 1, 1, '{}'::jsonb,
       (now() at time zone 'utc') - random() * interval '90 days',
       %(company)s, 'corr-' || n, 1, now(), 1, now()
  FROM generate_series(1, %(count)s) n
"""

DELIVERIES = """
INSERT INTO retail_outbox_delivery
    (event_id, subscription_id, backend_id, company_id, event_type, aggregate_key,
     sequence, version, state, attempts, next_attempt, delivered_at, replay_count,
     coalesced_count, reported, create_uid, create_date, write_uid, write_date)
SELECT e.id, s.id, s.backend_id, e.company_id, e.event_type, e.aggregate_key,
       1, 1, st.state, 1, e.occurred_at,
       CASE WHEN st.state = 'delivered'
            THEN e.occurred_at + (random() * 20) * interval '1 second' END,
       0, 0, false, 1, now(), 1, now()
  FROM retail_outbox_event e
  CROSS JOIN generate_series(0, 1) copy
  JOIN retail_event_subscription s
    ON s.id = (%(subs)s::int[])[1 + (e.id + copy * 3) %% %(backends)s]
  CROSS JOIN LATERAL (SELECT CASE WHEN random() + 0 * e.id < 0.02 THEN 'dead'
                                  WHEN random() + 0 * copy < 0.01 THEN 'failed'
                                  ELSE 'delivered' END AS state) st
"""

EXCEPTIONS = """
INSERT INTO retail_sync_exception
    (name, backend_id, company_id, kind, cause, fingerprint, first_seen, last_seen,
     occurrence_count, state, create_uid, create_date, write_uid, write_date)
SELECT 'Unknown SKU SKU-' || (n %% 300) || ' in web order #' || n,
       (%(backends_ids)s::int[])[1 + n %% %(backends)s], %(company)s, 'mapping',
       'No product has this SKU.', md5('bench' || n), t.at, t.at, 1,
       CASE WHEN n %% 5 = 0 THEN 'new' ELSE 'resolved' END, 1, t.at, 1, t.at
  FROM generate_series(1, %(count)s) n
  CROSS JOIN LATERAL (SELECT (now() at time zone 'utc')
                             - (random() + 0 * n) * interval '90 days' AS at) t
"""


def timed(fn, rounds):
    times = []
    for _i in range(rounds):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 0.95)


def fill(bench, args):
    with bench.env() as env:
        company = env.company
        backends = env["retail.backend"].create(
            [
                {
                    "name": f"Bench Shop {i}",
                    "code": f"bench_{i}",
                    "channel_type": "storefront",
                    "state": "active",
                }
                for i in range(BACKENDS)
            ]
        )
        endpoints = env["retail.webhook.endpoint"].create(
            [
                {
                    "name": "hooks",
                    "backend_id": b.id,
                    "scheme": "shopify",
                    "secret": "s",
                }
                for b in backends
            ]
        )
        order_type = env["retail.outbox.event.type"].search(
            [("code", "=", "order.confirmed")]
        )
        subs = env["retail.event.subscription"].create(
            [
                {
                    "name": f"ERP {b.code}",
                    "backend_id": b.id,
                    "url": "https://erp.example.com/hook",
                    "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                    "event_type_ids": [(6, 0, order_type.ids)],
                }
                for b in backends
            ]
        )
        env["retail.monitor.token"].create({"name": "bench", "token": TOKEN})
        env.flush_all()
        cr = env.cr
        started = time.monotonic()
        cr.execute(
            MESSAGES,
            {"count": args.messages, "endpoints": endpoints.ids, "backends": BACKENDS},
        )
        cr.execute(EVENTS, {"count": args.deliveries // 2, "company": company.id})
        cr.execute(DELIVERIES, {"subs": subs.ids, "backends": BACKENDS})
        cr.execute(
            EXCEPTIONS,
            {
                "count": args.exceptions,
                "backends_ids": backends.ids,
                "backends": BACKENDS,
                "company": company.id,
            },
        )
        cr.commit()
        for table in (
            "retail_inbound_message",
            "retail_outbox_event",
            "retail_outbox_delivery",
            "retail_sync_exception",
        ):
            cr.execute(f"ANALYZE {table}")  # noqa: S608 - a constant name
        fill_s = time.monotonic() - started
        cr.execute("SELECT count(*) FROM retail_outbox_delivery")
        deliveries = cr.fetchone()[0]
    print(
        f"filled: {args.messages:,} messages, {deliveries:,} deliveries, "
        f"{args.exceptions:,} exceptions over 90 days, {BACKENDS} backends "
        f"in {fill_s:.1f} s"
    )


def measure_in_process(bench, rounds):
    from odoo import fields

    with bench.env() as env:
        Flow = env["retail.monitor.flow"]
        started = time.perf_counter()
        Flow._sync_flows()
        rollups = env["retail.monitor.rollup"]._cron_rollup()
        rollup_s = time.perf_counter() - started
        env.cr.commit()
        print(f"first rollup (48 h backfill, {rollups} rows): {rollup_s:.2f} s")
        flows = Flow.search([])
        spec = {name: {} for name in CARD_FIELDS}
        spec["company_id"] = {"fields": {"display_name": {}}}
        spec["owner_id"] = {"fields": {"display_name": {}}}

        def refresh():
            flows._refresh_health()
            env.cr.rollback()

        def kanban():
            env.invalidate_all()
            Flow.web_search_read([], spec, limit=80)

        def baseline():
            env.invalidate_all()
            env["retail.backend"].web_search_read(
                [], {"name": {}, "state": {}, "open_exception_count": {}}, limit=80
            )

        def full_refresh():
            env.cr.execute("UPDATE retail_monitor_flow SET dead_counted_at = NULL")
            env.invalidate_all()
            flows._refresh_health()
            env.cr.rollback()

        flows._refresh_health()  # warm, and the dead items counted
        env.cr.commit()
        kpis_ms = timed(
            lambda: env["retail.monitor.kpi.value"]._compute_all(fields.Datetime.now()),
            rounds,
        )
        flows._refresh_health()
        env.cr.commit()
        results = {
            "measure of every flow, each minute (_refresh_health)": timed(
                refresh, rounds
            ),
            "the same with the dead items counted (every 10 min)": timed(
                full_refresh, rounds
            ),
            "kanban read (web_search_read, card fields)": timed(kanban, rounds),
            "business KPIs (_compute_all)": kpis_ms,
            "baseline: backends' web_search_read": timed(baseline, rounds),
        }
    print(f"flows: {len(flows)}")
    for name, (median, p95) in results.items():
        print(f"  {name}: median {median:.1f} ms, p95 {p95:.1f} ms")
    return results


def measure_scrape(bench, rounds):
    session = requests.Session()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{bench.url}/retail/metrics"
    session.get(url, headers=auth, timeout=60).raise_for_status()  # warm

    def scrape(server):
        response = session.get(url, headers=auth, timeout=60)
        response.raise_for_status()
        for family in text_string_to_metric_families(response.text):
            if family.name == "retail_monitoring_scrape_duration_seconds":
                server.append(family.samples[0].value * 1000)

    def health():
        session.get(f"{bench.url}/web/health", timeout=60).raise_for_status()

    # A scrape reads the cron's stored measure, whatever its age (which it
    # reports): a day-old one costs the same as a fresh one.
    for mode, age in (
        ("the cron's stored measure (fresh)", "0 seconds"),
        ("the cron's stored measure (a day old: cron stopped)", "1 day"),
    ):
        with bench.env() as env:
            env["retail.monitor.flow"].search([])._refresh_health()
            env.flush_all()  # before the UPDATE, which the flush would undo
            env.cr.execute(
                "UPDATE retail_monitor_flow SET health_at = health_at - %s::interval",
                [age],
            )
        server = []
        scraped = timed(lambda server=server: scrape(server), rounds)
        print(
            f"scrape GET /retail/metrics, {mode}: median {scraped[0]:.1f} ms, p95 "
            f"{scraped[1]:.1f} ms (server: median {statistics.median(server):.1f} ms)"
        )
    baseline = timed(health, rounds)
    print(f"  baseline GET /web/health: median {baseline[0]:.1f} ms")
    # queue_job's runner starts a few seconds after the server
    deadline = time.monotonic() + 60
    while True:
        ready = session.get(f"{bench.url}/retail/health", timeout=60)
        if ready.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(1)
    print(f"GET /retail/health: {ready.status_code} {ready.json()['checks']}")


def main():
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--deliveries", type=int, default=200_000)
    parser.add_argument("--exceptions", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (to look into it)"
    )
    args = parser.parse_args()
    bench = BenchOdoo(["retail_integration_monitoring"], db_prefix="monitoring_bench_")
    try:
        try:
            print(f"install: {bench.install():.0f} s")
        except subprocess.CalledProcessError as err:
            sys.exit(err.stderr.decode(errors="replace")[-3000:])
        bench.load()
        fill(bench, args)
        measure_in_process(bench, args.rounds)
        bench.start()
        measure_scrape(bench, args.rounds)
    finally:
        if args.keep:
            bench.stop()
            print(f"kept: database {bench.db}, configuration {bench.conf}")
        else:
            bench.drop()


if __name__ == "__main__":
    main()
