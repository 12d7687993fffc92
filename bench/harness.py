"""What the benchmarks share: a database of their own, a real Odoo server on
it, and Odoo in the benchmark's own process.

The Odoo server runs from the Python that runs the benchmark (the project's
.venv/bin/python after setup/test.sh), with the suite's addons and this
folder's baseline addon, ``--workers=2``, on 127.0.0.1.
"""

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
ODOO_BIN = REPO / "setup" / "odoo-bin"  # not -m odoo: see that file
sys.path.insert(0, str(REPO / "tests"))

from odoo_client import OdooClient  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def addons_path():
    import odoo

    package = Path(odoo.__path__[0])
    paths = [
        package.parent / "addons",
        package / "addons",
        REPO / "addons",
        REPO / "bench" / "addons",
    ]
    return ",".join(str(p) for p in paths if p.is_dir())


_LOADED = []  # the bench whose configuration this process read


def dependencies(modules):
    """What ``modules`` depend on (their manifests' ``depends``, not
    themselves): a comparison with and without a module installs these on
    both sides, so that it measures the module alone."""
    import ast

    deps = []
    for module in modules:
        manifest = REPO / "addons" / module / "__manifest__.py"
        for dep in ast.literal_eval(manifest.read_text())["depends"]:
            if dep not in deps and dep not in modules:
                deps.append(dep)
    return deps


class BenchOdoo:
    """A throw-away database and an Odoo server on it.

    ``db_prefix`` names the database (``<prefix><pid>``); ``extra_conf`` is
    added to the ``[options]`` of its configuration file."""

    def __init__(
        self,
        modules,
        channels="root:4,root.retail:4",
        db_prefix="retail_bench_",
        extra_conf="",
    ):
        self.db = f"{db_prefix}{os.getpid()}"
        self.modules = modules
        self.dir = Path(tempfile.mkdtemp(prefix="retail-bench-"))
        self.conf = self.dir / "odoo.conf"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        self.conf.write_text(
            "[options]\n"
            f"addons_path = {addons_path()}\n"
            f"data_dir = {self.dir / 'data'}\n"
            f"retail_secret_key = {key}\n"
            "server_wide_modules = web,queue_job,retail_integration\n"
            "log_level = warn\n"
            f"{extra_conf}"
            "[queue_job]\n"
            f"channels = {channels}\n"
        )
        self.proc = None
        self.registry = None

    def odoo(self, *args, **kwargs):
        cmd = [
            sys.executable,
            str(ODOO_BIN),
            "-c",
            str(self.conf),
            "-d",
            self.db,
            *args,
        ]
        return subprocess.run(cmd, check=True, capture_output=True, **kwargs)

    def install(self):
        started = time.monotonic()
        self.odoo(
            "-i",
            ",".join(self.modules),
            "--without-demo=all",
            "--stop-after-init",
            f"--http-port={free_port()}",  # another server may hold 8069
        )
        return time.monotonic() - started

    def start(self, *extra):
        cmd = [
            sys.executable, str(ODOO_BIN), "-c", str(self.conf), "-d", self.db,
            "--workers=2", "--max-cron-threads=0", "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            # the websocket (gevent) process must not collide with another
            # server's on the default 8072
            f"--gevent-port={free_port()}", *extra,
        ]  # fmt: skip
        log = open(self.dir / "server.log", "ab")  # noqa: SIM115 - lives with the server
        self.proc = subprocess.Popen(
            cmd, stdout=log, stderr=log, start_new_session=True
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/web/login", timeout=5).ok:
                    return
            except requests.RequestException:
                time.sleep(0.5)
        raise RuntimeError(f"Odoo did not start; see {self.dir / 'server.log'}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def load(self):
        """Odoo in this process, on the bench database: its registry. Odoo's
        configuration is read once per process (it cannot be read again): a
        second bench loaded in the same process runs with the first one's."""
        import odoo
        from odoo.modules.registry import Registry

        if not _LOADED:
            odoo.tools.config.parse_config(["-c", str(self.conf), "-d", self.db])
            _LOADED.append(self.db)
        self.registry = Registry(self.db)
        return self.registry

    @contextmanager
    def env(self):
        """A superuser environment (after ``load``) whose transaction commits
        on exit."""
        from odoo import SUPERUSER_ID, api

        with self.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    def drop(self):
        self.stop()
        if self.registry is not None:
            from odoo.sql_db import close_db

            close_db(self.db)
            self.registry = None
        subprocess.run(
            ["dropdb", "--if-exists", self.db], check=False, capture_output=True
        )
        shutil.rmtree(self.dir, ignore_errors=True)  # config, logs, filestore

    def rpc(self, model, method, *args, **kwargs):
        """Call a model method as admin through JSON-RPC."""
        if getattr(self, "_client", None) is None:
            self._client = OdooClient(self.url, self.db)
        return self._client.call(model, method, *args, **kwargs)


def load_lib(relative_path):
    """A plain-Python module of an addon's lib/, without importing the addon."""
    import importlib.util

    path = REPO / "addons" / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def percentile(values, fraction):
    ordered = sorted(values)
    return (
        ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0
    )


def combined(runs):
    """One (requests/s, latencies, statuses) of several ``load`` results."""
    seconds = sum(len(lat) / rate for rate, lat, _statuses in runs)
    latencies = [x for _rate, lat, _statuses in runs for x in lat]
    statuses = {}
    for _rate, _lat, counts in runs:
        for status, count in counts.items():
            statuses[status] = statuses.get(status, 0) + count
    return len(latencies) / seconds, latencies, statuses
