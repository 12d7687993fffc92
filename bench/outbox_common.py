"""What the outbox benchmarks add to ``harness.BenchOdoo``: its database and
server set up for the outbox, and a local receiver.

Databases are named ``$OUTBOX_BENCH_DB_PREFIX<name>_<pid>`` (default
``outbox_bench_``).
"""

import json
import multiprocessing
import os
import queue
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import BenchOdoo, free_port, percentile  # noqa: E402, F401


def outbox_bench(name, extra_modules=()):
    """A ``BenchOdoo`` with retail_integration_outbox (and ``extra_modules``;
    no demo data), private receiver URLs allowed, the job runner's channels
    ``root:4,root.retail:4``."""
    prefix = os.environ.get("OUTBOX_BENCH_DB_PREFIX", "outbox_bench_")
    return BenchOdoo(
        ["retail_integration_outbox", *extra_modules],
        db_prefix=f"{prefix}{name}_",
        extra_conf="retail_outbox_allow_private_urls = True\n",
    )


def _serve(port, status, queue):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else keep-alive requests stall 40 ms

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            code = status.value
            if code < 300:
                queue.put((self.headers["webhook-id"], time.time(), body))
            else:
                queue.put((None, time.time(), b""))
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


class Receiver:
    """A local receiver in a process of its own (so that it takes no GIL from
    the benchmark): notes the arrival time of each webhook-id it accepts.
    Set ``status`` to 503 for an outage."""

    def __init__(self):
        self._status = multiprocessing.Value("i", 200)
        self._queue = multiprocessing.Queue()
        self._arrivals = {}  # webhook-id -> (time, parsed body)
        self._requests = 0
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/events"
        self.process = multiprocessing.Process(
            target=_serve, args=(port, self._status, self._queue), daemon=True
        )
        self.process.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)

    @property
    def status(self):
        return self._status.value

    @status.setter
    def status(self, value):
        self._status.value = value

    def _drain(self):
        while True:
            try:
                webhook_id, when, body = self._queue.get_nowait()
            except queue.Empty:
                return
            self._requests += 1
            if webhook_id:
                self._arrivals.setdefault(webhook_id, (when, json.loads(body)))

    @property
    def arrivals(self):
        self._drain()
        return self._arrivals

    @property
    def requests(self):
        self._drain()
        return self._requests

    def stop(self):
        self.process.terminate()
        self.process.join(5)


def subscribe(env, backend_code, url, event_types, **vals):
    """A backend and an active subscription of it to ``event_types``."""
    backend = env["retail.backend"].create(
        {"name": backend_code, "code": backend_code, "state": "active"}
    )
    types = env["retail.outbox.event.type"].search([("code", "in", event_types)])
    return env["retail.event.subscription"].create(
        {
            "name": f"{backend_code} receiver",
            "backend_id": backend.id,
            "url": url,
            "event_type_ids": [(6, 0, types.ids)],
            **vals,
        }
    )
