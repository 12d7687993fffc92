"""Fixtures of the system tests: a REAL Odoo server on the test database.

setup/test.sh installs the suite (with demo data) on a fresh database and runs
pytest with these environment variables:

- ``RETAIL_TEST_DB``: database name;
- ``RETAIL_TEST_ODOO_CONF``: generated Odoo config (server_wide_modules,
  ``[queue_job]`` channels, ``retail_secret_key``);
- ``RETAIL_TEST_PYTHON``: python interpreter that runs ``-m odoo``.
"""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ENV_VARS = ("RETAIL_TEST_DB", "RETAIL_TEST_ODOO_CONF", "RETAIL_TEST_PYTHON")
START_TIMEOUT = 60
ODOO_BIN = Path(__file__).resolve().parent.parent / "setup" / "odoo-bin"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OdooServer:
    """An Odoo server subprocess (``--workers=2``) that tests can restart."""

    def __init__(self, python, conf, db, log_dir):
        self.python, self.conf, self.db = python, conf, db
        self.log_path = Path(log_dir) / "odoo-server.log"
        self.port = _free_port()
        self.gevent_port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self._log = None

    def start(self, timeout=START_TIMEOUT, extra_args=()):
        """Start the server (extra_args are appended, e.g. ["--load=web"])."""
        # setup/odoo-bin, not "-m odoo": see that file (gevent process).
        cmd = [
            self.python, str(ODOO_BIN), "-c", self.conf, "-d", self.db,
            "--workers=2", "--max-cron-threads=0",
            "--http-interface", "127.0.0.1", "--http-port", str(self.port),
            # the websocket (gevent) process must not collide with a demo
            # server on the default 8072
            "--gevent-port", str(self.gevent_port),
            *extra_args,
        ]  # fmt: skip
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        # Own process group: stop() must reach the prefork workers too.
        self.proc = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"Odoo server exited with status {self.proc.returncode} "
                    f"during start-up; see {self.log_path}"
                )
            try:
                if requests.get(f"{self.url}/web/login", timeout=5).status_code == 200:
                    return self.url
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        pytest.fail(
            f"Odoo server did not answer /web/login within {timeout} s; "
            f"see {self.log_path}"
        )

    def stop(self, timeout=20):
        """SIGTERM (graceful), then SIGKILL the whole process group."""
        if self.proc and self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait(10)
        self._signal(signal.SIGKILL)  # leftover workers, if any
        if self._log:
            self._log.close()
            self._log = None

    def kill(self):
        """Crash the server abruptly (fault tests), without any clean-up."""
        if self.proc and self.proc.poll() is None:
            self._signal(signal.SIGKILL)
            self.proc.wait(10)

    def restart(self, timeout=START_TIMEOUT, extra_args=()):
        self.stop()
        return self.start(timeout, extra_args)

    def _signal(self, sig):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.fixture(scope="session")
def odoo_env():
    missing = [v for v in ENV_VARS if not os.environ.get(v)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not set: run the system tests through "
            "setup/test.sh, which creates the test database and Odoo config"
        )
    return {v: os.environ[v] for v in ENV_VARS}


@pytest.fixture(scope="session")
def odoo_process(odoo_env):
    """The OdooServer object: use .restart() / .kill() in fault tests."""
    log_dir = Path(odoo_env["RETAIL_TEST_ODOO_CONF"]).parent / "test-logs"
    server = OdooServer(
        odoo_env["RETAIL_TEST_PYTHON"],
        odoo_env["RETAIL_TEST_ODOO_CONF"],
        odoo_env["RETAIL_TEST_DB"],
        log_dir,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def odoo_server(odoo_process):
    """Base URL of the running server, e.g. http://127.0.0.1:PORT."""
    return odoo_process.url


@pytest.fixture(scope="session")
def odoo_db(odoo_env):
    return odoo_env["RETAIL_TEST_DB"]
