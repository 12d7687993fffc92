"""The outbox relayed to a RabbitMQ stream beside signed HTTP delivery to a
local receiver, in the same run: events/s and the lag from the commit of the
business change to the broker's confirm (to the receipt, for HTTP).

A real Odoo server runs with --workers=2 and queue_job's runner, with the
broker of the machine (127.0.0.1:5672, stream port 5552; its stream plugin is
enabled if it is not). This process commits product changes
(product.changed, one delivery each) in transactions of --batch, with one
subscription active at a time:

- rabbitmq: a stream subscription; the stream is read back with
  examples/rabbitmq_consumer.py (every signature verified, each event once
  in order asserted); the lag ends at the time the broker stored the
  message's chunk, which is when it confirms;
- http: the same changes to a signed-webhook subscription on a local
  receiver (bench/outbox_common.py).

For each: live (the changes committed as fast as this process can while
dispatching runs: the lag) and backlog (as many committed while the
subscription's backend is paused, then resumed: the relay's own rate).

    python3 bench/outbox_rabbitmq.py [--events 20000] [--batch 200]
"""

import argparse
import asyncio
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

from outbox_common import Receiver, outbox_bench, percentile, subscribe  # noqa: E402
from rabbitmq_consumer import consume, offset_spec  # noqa: E402
from rstream import Producer  # noqa: E402

URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
STREAM_PORT = 5552


def ensure_stream_protocol():
    def listening(port):
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    if not listening(5672):
        raise SystemExit("RabbitMQ does not answer on 127.0.0.1:5672")
    if not listening(STREAM_PORT):
        subprocess.run(
            [shutil.which("rabbitmq-plugins") or "rabbitmq-plugins", "enable",
             "rabbitmq_stream"],
            check=True, capture_output=True,
        )  # fmt: skip
        while not listening(STREAM_PORT):
            time.sleep(0.2)


class StreamReader:
    """The stream read by the example consumer in a thread: the broker time
    of each event id, and (product id, aggregate sequence) in stream order."""

    def __init__(self, stream, secret):
        self.arrivals = {}  # event id -> (broker time, envelope)
        self.order = []
        self.bad = 0
        self.stop = False

        def on_event(offset, broker_ms, headers, envelope):
            if envelope["id"] in self.arrivals:
                raise AssertionError(f"event {envelope['id']} twice in the stream")
            self.arrivals[envelope["id"]] = (broker_ms / 1000, envelope)
            self.order.append(
                (envelope["data"]["id"], envelope["aggregate"]["sequence"])
            )

        def on_bad(offset, why):
            self.bad += 1

        async def run():
            # The stream exists before Odoo first publishes to it.
            producer = Producer(
                "127.0.0.1", STREAM_PORT, username="guest", password="guest"
            )
            await producer.start()
            await producer.create_stream(stream, exists_ok=True)
            await producer.close()
            task = asyncio.create_task(
                consume(URL, stream, [secret], on_event, spec=offset_spec(),
                        on_bad=on_bad)
            )  # fmt: skip
            while not self.stop:
                await asyncio.sleep(0.2)
            task.cancel()

        self.thread = threading.Thread(target=asyncio.run, args=(run(),), daemon=True)
        self.thread.start()


def commit_changes(bench, product_ids, batch, suffix):
    """Change every product, ``batch`` per transaction; {id: commit time}."""
    committed = {}
    for start in range(0, len(product_ids), batch):
        chunk = product_ids[start : start + batch]
        with bench.env() as env:
            for product in env["product.product"].browse(chunk):
                product.default_code = f"ITEM-{product.id}-{suffix}"
        committed.update(dict.fromkeys(chunk, time.time()))
    return committed


STALL = 5  # seconds without an arrival before the bench wakes the dispatcher


def wait_for(bench, arrivals, count, timeout):
    """``arrivals()`` once it holds ``count``, and how often the dispatcher
    had to be woken as the per-minute cron wakes it (this server runs
    without cron): a commit whose dispatch job found the subscription taken
    waits for the holder's follow-up, which may miss it."""
    deadline = time.time() + timeout
    seen, since, wakes = len(arrivals()), time.time(), 0
    while seen < count and time.time() < deadline:
        time.sleep(0.2)
        now = len(arrivals())
        if now != seen:
            seen, since = now, time.time()
        elif time.time() - since > STALL:
            with bench.env() as env:
                env["retail.event.subscription"]._cron_dispatch_due()
            wakes, since = wakes + 1, time.time()
    return arrivals(), wakes


def measure(label, bench, code, arrivals, product_ids, args, suffix):
    """The live then the backlog phase of one subscription; prints its figures."""
    total = len(product_ids)
    before = len(arrivals())
    committed = commit_changes(bench, product_ids, args.batch, f"{suffix}-live")
    got, wakes = wait_for(bench, arrivals, before + total, args.timeout)
    live = [v for v in got.values() if v[1]["data"]["sku"].endswith(f"{suffix}-live")]
    lags = [when - committed[env["data"]["id"]] for when, env in live]
    first = min(committed.values())
    if not live:
        raise SystemExit(f"{label}: nothing relayed; see {bench.dir / 'server.log'}")
    last = max(when for when, _e in live)
    print(
        f"{label} live: {len(live)}/{total} relayed, "
        f"{len(live) / (last - first):.0f} events/s from first commit to last "
        f"{'confirm' if code == 'mq' else 'receipt'}; "
        f"lag p50 {percentile(lags, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(lags, 0.99) * 1000:.0f} ms; dispatcher woken by the "
        f"bench {wakes} times"
    )
    with bench.env() as env:
        env["retail.backend"].search([("code", "=", code)]).action_pause()
    commit_changes(bench, product_ids, args.batch, f"{suffix}-backlog")
    before = len(arrivals())
    with bench.env() as env:
        env["retail.backend"].search([("code", "=", code)]).action_activate()
        env["retail.event.subscription"].search(
            [("backend_id.code", "=", code)]
        )._enqueue_dispatch()
    resumed = time.time()
    got, wakes = wait_for(bench, arrivals, before + total, args.timeout)
    drained = [when for when, _e in got.values() if when >= resumed]
    rate = len(drained) / (max(drained) - resumed) if drained else 0
    print(
        f"{label} backlog of {total}: {len(drained)} relayed in "
        f"{max(drained, default=resumed) - resumed:.2f} s: {rate:.0f} events/s"
        + (f" (dispatcher woken by the bench {wakes} times)" if wakes else "")
    )
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    ensure_stream_protocol()
    stream = f"retail-bench-{uuid.uuid4().hex[:8]}"
    bench = outbox_bench("rabbitmq", ["retail_integration_outbox_rabbitmq"])
    bench.conf.write_text(
        bench.conf.read_text().replace(
            "[queue_job]",
            f"retail_outbox_rabbitmq_url = {URL}\n"
            f"retail_outbox_rabbitmq_stream_port = {STREAM_PORT}\n[queue_job]",
        )
    )
    receiver = Receiver()
    reader = None
    try:
        print(f"install: {bench.install():.0f} s")
        bench.load()
        with bench.env() as env:
            product_ids = (
                env["product.product"]
                .create(
                    [
                        {"name": f"Item {i}", "default_code": f"ITEM-{i}"}
                        for i in range(args.events)
                    ]
                )
                .ids
            )
            mq = subscribe(
                env, "mq", False, ["product.changed"],
                delivery_mode="rabbitmq", rabbitmq_name=stream,
            )  # fmt: skip
            secret = mq._get_secret("signing_secret")
            http = subscribe(env, "http", receiver.url, ["product.changed"])
            http.active = False
        reader = StreamReader(stream, secret)
        bench.start()
        time.sleep(6)  # queue_job's runner starts 5 s after the server
        print(f"{args.events} events per phase, committed {args.batch} per transaction")
        mq_rate = measure(
            "rabbitmq",
            bench,
            "mq",
            lambda: dict(reader.arrivals),
            product_ids,
            args,
            "mq",
        )
        with bench.env() as env:
            env["retail.event.subscription"].with_context(active_test=False).search(
                []
            ).toggle_active()

        def http_arrivals():
            return {k: v for k, v in receiver.arrivals.items()}

        http_rate = measure(
            "http", bench, "http", http_arrivals, product_ids, args, "http"
        )
        print(
            f"rabbitmq / http backlog rate: {mq_rate / http_rate:.1f}x "
            "(target >= 3x, >= 2,000 events/s)"
            if http_rate
            else "http: nothing received"
        )
        # Each event once in the stream, signatures verified, in commit order
        # per product (each product is its own aggregate).
        sequences = {}
        for product_id, sequence in reader.order:
            sequences.setdefault(product_id, []).append(sequence)
        print(
            f"stream: {len(reader.arrivals)} events, each once, {reader.bad} bad "
            "signatures; per-product order kept: "
            f"{all(s == sorted(s) for s in sequences.values())}"
        )
    finally:
        if reader:
            reader.stop = True
        receiver.stop()
        bench.drop()
        subprocess.run(
            [shutil.which("rabbitmqctl") or "rabbitmqctl", "delete_queue", stream],
            check=False, capture_output=True,
        )  # fmt: skip


if __name__ == "__main__":
    main()
