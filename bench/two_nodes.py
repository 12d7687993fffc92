"""Webhook ingest on one Odoo node vs two nodes on the same database, and
the job runner's failover time.

Each node is a real server (--workers=2, queue_job's runner configured, its
own ports) on one database. Signed Standard Webhooks POSTs at concurrency 8:
first all to node A, then round robin to A and B; for each, accepted
requests/s (p50/p99) and the time until every message is processed by the
jobs. On one machine of 2 cores the second node brings no gain (the same
cores serve both): the figure shows the path works. Then node A is killed
(SIGKILL, its runner too) and the time until B's runner holds queue_job's
lock is measured.

    python3 bench/two_nodes.py [--requests 1000] [--concurrency 8]
"""

import argparse
import copy
import os
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import BenchOdoo, free_port, percentile  # noqa: E402
from webhook_ingest import load, open_endpoint, signed_requests  # noqa: E402

RUNNER_LOCK = 2293787760715711918  # queue_job's jobrunner/runner.py


def second_node(odoo):
    """Another server on the same database and configuration."""
    node = copy.copy(odoo)
    node.port = free_port()
    node.url = f"http://127.0.0.1:{node.port}"
    node.proc = None
    node._client = None
    node.start(f"--gevent-port={free_port()}")
    return node


def processed(odoo, count, since, timeout=300):
    """Seconds from ``since`` until ``count`` more messages are done."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with odoo.env() as env:
            env.cr.execute(
                "SELECT count(*) FROM retail_inbound_message WHERE state = 'done'"
            )
            if env.cr.fetchone()[0] >= count:
                return time.time() - since
        time.sleep(0.2)
    raise SystemExit(f"messages not processed within {timeout} s")


def load_nodes(urls, prepared, concurrency):
    """POST ``prepared`` shared between ``urls``, each its share at the same
    time; (latencies, statuses)."""
    latencies, statuses = [], {}

    def run(url, share):
        _rate, lat, stat = load(url, share, max(1, concurrency // len(urls)))
        latencies.extend(lat)
        for status, count in stat.items():
            statuses[status] = statuses.get(status, 0) + count

    threads = [
        threading.Thread(target=run, args=(url, prepared[i :: len(urls)]))
        for i, url in enumerate(urls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses


def runner_group(odoo):
    """The process group of the process holding queue_job's runner lock on
    this database, or None."""
    with odoo.env() as env:
        env.cr.execute(
            """SELECT a.application_name FROM pg_locks l
               JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE l.locktype = 'advisory' AND l.granted
                 AND l.database = (SELECT oid FROM pg_database
                                    WHERE datname = current_database())
                 AND l.classid::bigint = %s AND l.objid::bigint = %s""",
            [RUNNER_LOCK >> 32, RUNNER_LOCK & 0xFFFFFFFF],
        )
        row = env.cr.fetchone()
    if not row:
        return None
    try:
        return os.getpgid(int(row[0].removeprefix("odoo-")))
    except ProcessLookupError:
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    a = BenchOdoo(["retail_integration_webhook"], db_prefix="two_nodes_bench_")
    b = None
    try:
        # open_endpoint installs and starts A; its runner takes the lock.
        url_a = open_endpoint(a)
        a.load()
        token_path = url_a.removeprefix(a.url)
        b = second_node(a)
        url_b = f"{b.url}{token_path}"
        time.sleep(6)  # queue_job's runner starts 5 s after the server
        done = 0
        for label, urls in (("one node", [url_a]), ("two nodes", [url_a, url_b])):
            prepared = signed_requests(args.requests)
            started = time.time()
            latencies, statuses = load_nodes(urls, prepared, args.concurrency)
            accepted_in = time.time() - started
            done += statuses.get(202, 0)
            through = processed(a, done, started)
            print(
                f"{label:<10} accepted {args.requests / accepted_in:6.1f} req/s "
                f"(p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
                f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, {statuses}); "
                f"all processed in {through:.1f} s "
                f"({args.requests / through:.0f} messages/s)"
            )
        assert runner_group(a) == a.proc.pid, "A's runner is the active one"
        os.killpg(a.proc.pid, signal.SIGKILL)
        killed = time.time()
        while runner_group(a) != b.proc.pid:
            if time.time() - killed > 60:
                raise SystemExit("B's runner did not take over within 60 s")
            time.sleep(0.1)
        print(
            f"failover: B's runner holds the lock {time.time() - killed:.1f} s "
            "after A's SIGKILL (queue_job retries every 5 s)"
        )
    finally:
        if b is not None:
            b.stop()
        a.drop()


if __name__ == "__main__":
    main()
