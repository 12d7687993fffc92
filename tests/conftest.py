"""Fixtures of the system tests: a REAL Odoo server on the test database.

setup/test.sh installs the suite (with demo data) on a fresh database and runs
pytest with these environment variables:

- ``RETAIL_TEST_DB``: database name;
- ``RETAIL_TEST_ODOO_CONF``: generated Odoo config (server_wide_modules,
  ``[queue_job]`` channels, ``retail_secret_key``);
- ``RETAIL_TEST_PYTHON``: python interpreter that runs ``-m odoo``.
"""

import configparser
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
        self._conf_copy = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=START_TIMEOUT, extra_args=(), options=None):
        """Start the server.

        ``extra_args`` are appended to the command line, e.g. ["--load=web"].
        ``options``, ``{section: {key: value}}``, are set over the test config
        in a copy of it, for what the command line does not take: e.g.
        ``{"options": {"retail_channel_capacity": 4},
        "queue_job": {"channels": "root:8"}}``. The next start without them
        runs on the test config again.
        """
        conf = self._write_conf(options) if options else self.conf
        # setup/odoo-bin, not "-m odoo": see that file (gevent process).
        cmd = [
            self.python, str(ODOO_BIN), "-c", conf, "-d", self.db,
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
        if self._conf_copy:
            self._conf_copy.unlink(missing_ok=True)
            self._conf_copy = None

    def kill(self):
        """Crash the server abruptly (fault tests), without any clean-up."""
        if self.proc and self.proc.poll() is None:
            self._signal(signal.SIGKILL)
            self.proc.wait(10)

    def restart(self, timeout=START_TIMEOUT, extra_args=(), options=None):
        self.stop()
        return self.start(timeout, extra_args, options)

    def _write_conf(self, options):
        """A copy of the test config with ``options`` set; its path."""
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(self.conf)
        for section, values in options.items():
            if not parser.has_section(section):
                parser.add_section(section)
            for key, value in values.items():
                parser.set(section, key, str(value))
        # Beside the log, not the test config: several runs may share a folder.
        path = self.log_path.with_name(f"odoo-server-{self.port}.conf")
        path.parent.mkdir(parents=True, exist_ok=True)
        # It holds the secret key: readable by its owner only.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w") as conf:
            parser.write(conf)
        self._conf_copy = path
        return str(path)

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
    """The OdooServer object: use .restart() / .kill() in fault tests.

    Not started yet: ``odoo_server`` starts it, unless a module restarted it
    first with options of its own (then it starts once, not twice)."""
    log_dir = Path(odoo_env["RETAIL_TEST_ODOO_CONF"]).parent / "test-logs"
    server = OdooServer(
        odoo_env["RETAIL_TEST_PYTHON"],
        odoo_env["RETAIL_TEST_ODOO_CONF"],
        odoo_env["RETAIL_TEST_DB"],
        log_dir,
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def odoo_server(odoo_process):
    """Base URL of the running server, e.g. http://127.0.0.1:PORT."""
    if not odoo_process.running:
        odoo_process.start()
    return odoo_process.url


@pytest.fixture(scope="session")
def odoo_db(odoo_env):
    return odoo_env["RETAIL_TEST_DB"]
