"""Workers killed in the middle of a job, the job runner killed, PostgreSQL
restarted, against a real ``--workers=2`` server: every job whose worker died
is requeued once, within a bounded time, and a job that keeps killing its
worker ends failed in the exceptions inbox (retail_integration/lib/dead_jobs.py).

The server looks for dead jobs every INTERVAL seconds, kills a worker after
LIMIT seconds (``limit_time_real``), and fails a job whose worker died
MAX_KILLS times. The test addon ``retail_test_dead_workers`` (tests/addons)
adds webhook topics whose job kills its own worker, or sleeps.
"""

import configparser
import os
import shutil
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import psycopg2
import pytest
import requests
from odoo_client import OdooClient
from test_storefront_system import (
    SECRET,
    _tests_after,
    order_data,
    orders_by_name,
    post_signed,
)
from test_webhook_system import make_endpoint

TEST_ADDONS = Path(__file__).resolve().parent / "addons"
TEST_ADDON = "retail_test_dead_workers"
INTERVAL = 2
LIMIT = 10
JOB_TIME_LIMIT = 4
MAX_KILLS = 2
# Kill to requeue: the next look (INTERVAL), once the job has run 2 s
# (lib/dead_jobs.py STARTED_GRACE); the rest is slack for a busy machine.
DETECTION_BOUND = INTERVAL + 2 + 6
ORDERS = 200
POSTERS = 8
PROCESS_TIMEOUT = 150
FINAL_STATES = ("done", "failed", "ignored")
RUNNER_LOCK = 2293787760715711918  # queue_job's jobrunner/runner.py


def server_options(conf):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(conf)
    return {
        "options": {
            "addons_path": f"{parser['options']['addons_path']},{TEST_ADDONS}",
            "retail_dead_job_interval": INTERVAL,
            "retail_dead_job_max_kills": MAX_KILLS,
            "retail_job_time_limit": JOB_TIME_LIMIT,
            "limit_time_real": LIMIT,
        }
    }


@pytest.fixture(scope="module")
def server(request, odoo_process, odoo_env):
    """The test server with the test addon installed (uninstalled after)."""
    url = odoo_process.restart(
        options=server_options(odoo_env["RETAIL_TEST_ODOO_CONF"])
    )
    admin = OdooClient(url, odoo_env["RETAIL_TEST_DB"])
    admin.call("ir.module.module", "update_list")
    addon = admin.call("ir.module.module", "search", [("name", "=", TEST_ADDON)])
    admin.call("ir.module.module", "button_immediate_install", addon)
    try:
        yield url
    finally:
        if odoo_process.running:
            OdooClient(url, odoo_env["RETAIL_TEST_DB"]).call(
                "ir.module.module", "button_immediate_uninstall", addon
            )
        if _tests_after(request):
            odoo_process.restart()  # the suite's usual server for the next tests


@pytest.fixture(scope="module")
def admin(server, odoo_db):
    return OdooClient(server, odoo_db)


def make_backend(admin, name, **vals):
    """An active generic backend and an endpoint signing with SECRET."""
    run = uuid.uuid4().hex[:8]
    backend = admin.call(
        "retail.backend",
        "create",
        {"name": f"{name} {run}", "code": f"dw_{run}", "state": "active", **vals},
    )
    token = make_endpoint(
        admin,
        backend,
        name=f"{name} hooks {run}",
        secret=SECRET,
        rate_limit=1000,
        rate_burst=1000,
    )
    [channel] = admin.call("retail.backend", "read", [backend], ["job_channel"])
    return SimpleNamespace(
        run=run, backend=backend, token=token, channel=channel["job_channel"]
    )


@pytest.fixture(scope="module")
def shop(admin):
    """A generic storefront that confirms paid orders, and its two products."""
    [user] = admin.call(
        "res.users", "search_read", [["login", "=", "admin"]], ["company_id"]
    )
    [company] = admin.call(
        "res.company", "read", [user["company_id"][0]], ["currency_id"]
    )
    [warehouse] = admin.call("stock.warehouse", "search", [], limit=1)
    shipping = admin.call(
        "product.product",
        "create",
        {
            "name": "Shipping (dead workers)",
            "type": "service",
            "taxes_id": [(6, 0, [])],
        },
    )
    shop = make_backend(
        admin,
        "Dead workers shop",
        channel_type="storefront",
        provider="generic",
        warehouse_id=warehouse,
        storefront_shipping_product_id=shipping,
        storefront_auto_confirm=True,
    )
    shop.currency = company["currency_id"][1]
    shop.skus = [f"DW-{shop.run}-1", f"DW-{shop.run}-2"]
    for sku in shop.skus:
        admin.call(
            "product.product",
            "create",
            {
                "name": sku,
                "default_code": sku,
                "is_storable": True,
                "taxes_id": [(6, 0, [])],
            },
        )
    return shop


def db_rows(db, query, params=()):
    """Rows of ``query`` (committed), retried while PostgreSQL restarts."""
    for _attempt in range(60):
        try:
            with closing(psycopg2.connect(dbname=db)) as cnx, cnx, cnx.cursor() as cr:
                cr.execute(query, params)
                return cr.fetchall()
        except psycopg2.OperationalError:
            time.sleep(0.5)
    raise AssertionError("PostgreSQL did not come back within 30 s")


def jobs_of(db, channel):
    """[(job uuid, state, attempts, kill count)] of a channel's drain jobs."""
    return db_rows(
        db,
        """SELECT j.uuid, j.state, j.retry, l.kill_count FROM queue_job j
           LEFT JOIN retail_job_lock l ON l.queue_job_id = j.id
           WHERE j.channel = %s ORDER BY j.id""",
        [channel],
    )


def started_jobs(db, channel):
    return db_rows(
        db,
        "SELECT uuid, worker_pid FROM queue_job WHERE state = 'started' "
        "AND channel = %s",
        [channel],
    )


def wait_processed(db, delivery_ids, timeout=PROCESS_TIMEOUT):
    """{delivery id: (message state, error)} once every message is processed."""
    deadline = time.monotonic() + timeout
    while True:
        rows = db_rows(
            db,
            "SELECT delivery_id, state, error FROM retail_inbound_message "
            "WHERE delivery_id = ANY(%s)",
            [list(delivery_ids)],
        )
        states = {delivery: (state, error) for delivery, state, error in rows}
        waiting = [
            d for d in delivery_ids if states.get(d, ("?",))[0] not in FINAL_STATES
        ]
        if not waiting:
            return states
        if time.monotonic() > deadline:
            pytest.fail(
                f"{len(waiting)} of {len(delivery_ids)} messages not processed "
                f"within {timeout} s, e.g. {[states.get(d) for d in waiting[:3]]}"
            )
        time.sleep(0.5)


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"not within {timeout} s: {what}")


def post_orders(url, shop, numbers):
    """POST an order.created (paid) webhook for each number, POSTERS at a
    time; the delivery ids the server accepted (202), by order number."""

    def post(number):
        try:
            delivery_id, response = post_signed(
                url, shop.token, "order.created", order_data(shop, number)
            )
        except requests.RequestException:
            return number, None
        return number, delivery_id if response.status_code == 202 else None

    with ThreadPoolExecutor(POSTERS) as pool:
        return {n: d for n, d in pool.map(post, numbers) if d}


def kill_a_running_job(db, channel):
    """SIGKILL the worker running a job of ``channel`` (found by the job's
    worker_pid) until one is killed mid-job; (uuid, pid, killed at)."""
    for _attempt in range(10):
        uuid_, pid = wait_until(
            lambda: started_jobs(db, channel), 30, "a job of the shop started"
        )[0]
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        # Mid-job, unless it committed just before the signal landed.
        time.sleep(0.2)
        [(state, worker)] = db_rows(
            db, "SELECT state, worker_pid FROM queue_job WHERE uuid = %s", [uuid_]
        )
        if state == "started" and worker == pid:
            return uuid_, pid, killed_at
    pytest.fail("every job finished before its worker was killed")


def test_a_worker_killed_mid_job_is_requeued_once_and_every_order_imported_once(
    server, admin, odoo_db, shop, capsys
):
    """The issue's bad day: 200 order webhooks at concurrency 8, kill -9 of
    the worker running a job. Each accepted webhook is one confirmed order."""
    with ThreadPoolExecutor(1) as background:
        posting = background.submit(post_orders, server, shop, range(ORDERS))
        killed_uuid, pid, killed_at = kill_a_running_job(odoo_db, shop.channel)
        wait_until(
            lambda: db_rows(
                odoo_db,
                """SELECT 1 FROM queue_job WHERE uuid = %s
                   AND (state != 'started' OR worker_pid != %s)""",
                [killed_uuid, pid],
            ),
            60,
            f"the killed job {killed_uuid} requeued",
        )
        detection = time.monotonic() - killed_at
        accepted = posting.result()
    assert len(accepted) > ORDERS * 0.9, f"only {len(accepted)} webhooks accepted"
    states = wait_processed(odoo_db, list(accepted.values()))
    failed = {d: s for d, s in states.items() if s[0] != "done"}
    assert not failed, failed
    [(state, retry, kills)] = db_rows(
        odoo_db,
        """SELECT j.state, j.retry, l.kill_count FROM queue_job j
           JOIN retail_job_lock l ON l.queue_job_id = j.id WHERE j.uuid = %s""",
        [killed_uuid],
    )
    assert (state, kills) == ("done", 1), "requeued exactly once, then done"
    assert retry >= 2, "the killed attempt, then the one that ran"
    orders = orders_by_name(admin, shop, [f"#{shop.run}-{n}" for n in accepted])
    assert {o["state"] for o in orders.values()} == {"sale"}
    # the killed drain's batch was rolled back whole: one attempt each
    attempts = db_rows(
        odoo_db,
        """SELECT DISTINCT attempts FROM retail_inbound_message
           WHERE delivery_id = ANY(%s)""",
        [list(accepted.values())],
    )
    assert attempts == [(1,)]
    # the last drain ends once it has found nothing more for a second
    wait_until(lambda: not started_jobs(odoo_db, shop.channel), 15, "drains ended")
    assert detection < DETECTION_BOUND, f"requeued {detection:.1f} s after the kill"
    with capsys.disabled():
        print(
            f"\nworker killed mid-job: requeued {detection:.1f} s after the kill "
            f"(looks every {INTERVAL} s); {len(accepted)} orders, each imported once"
        )


def test_a_job_that_kills_its_worker_every_time_fails_into_the_inbox(
    server, admin, odoo_db, shop
):
    killer, _response = post_signed(server, shop.token, "test.kill_worker", {})
    others = post_orders(server, shop, [f"k{n}" for n in range(5)])
    states = wait_processed(odoo_db, [killer, *others.values()])
    assert {states[d][0] for d in others.values()} == {"done"}
    state, error = states[killer]
    assert state == "failed"
    cause = (
        f"The worker running it was killed {MAX_KILLS} times (time limit or memory?)"
    )
    assert cause in error
    assert "failed" not in {job[1] for job in jobs_of(odoo_db, shop.channel)}, (
        "the message that kills is failed, not the drain"
    )
    [message] = admin.call(
        "retail.inbound.message",
        "search_read",
        [["delivery_id", "=", killer]],
        ["exception_id"],
    )
    [exception] = admin.call(
        "retail.sync.exception",
        "read",
        [message["exception_id"][0]],
        ["cause", "state", "backend_id", "retryable"],
    )
    assert cause in exception["cause"]
    assert (exception["state"], exception["backend_id"][0]) == ("new", shop.backend)
    assert exception["retryable"]


def runner_pid(db):
    """The pid of the job runner's process: it holds queue_job's master lock."""
    rows = db_rows(
        db,
        """SELECT a.application_name FROM pg_locks l
           JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE l.locktype = 'advisory' AND l.granted
             AND l.classid::bigint = %s AND l.objid::bigint = %s
             -- advisory locks are per database: another database's runner
             -- (a bench, the demo) is not this test's
             AND l.database = (SELECT oid FROM pg_database
                               WHERE datname = current_database())""",
        [RUNNER_LOCK >> 32, RUNNER_LOCK & 0xFFFFFFFF],
    )
    return int(rows[0][0].removeprefix("odoo-")) if rows else None


def test_jobs_a_killed_job_runner_had_enqueued_are_requeued(server, odoo_db, shop):
    """The runner marks a job enqueued, then asks a worker over HTTP to run
    it; killed in between, it leaves the job enqueued, which its successor
    counts as running. Here the jobs are marked enqueued as the runner does,
    just after its kill."""
    # no drain left from the tests before: these orders get a new one
    wait_until(lambda: not started_jobs(odoo_db, shop.channel), 30, "drains ended")
    pid = wait_until(lambda: runner_pid(odoo_db), 30, "the job runner running")
    os.kill(pid, signal.SIGKILL)
    accepted = post_orders(server, shop, [f"r{n}" for n in range(3)])
    assert db_rows(
        odoo_db,
        """UPDATE queue_job SET state = 'enqueued',
               date_enqueued = date_trunc('seconds', now() AT TIME ZONE 'UTC')
           WHERE channel = %s AND state = 'pending'
           RETURNING uuid""",
        [shop.channel],
    ), "their drain job"
    states = wait_processed(odoo_db, list(accepted.values()), timeout=60)
    assert {state for state, _error in states.values()} == {"done"}
    assert runner_pid(odoo_db) not in (None, pid), "a new job runner took over"


def run_watch_cron(admin):
    """Run the cron that files blocked job channels in the inbox (the test
    server runs no cron by itself)."""
    [cron] = admin.call(
        "ir.model.data",
        "search_read",
        [
            ["module", "=", "retail_integration"],
            ["name", "=", "ir_cron_watch_job_channels"],
        ],
        ["res_id"],
    )
    admin.call("ir.cron", "method_direct_trigger", [cron["res_id"]])


def test_a_job_past_limit_time_real_is_failed_and_a_slow_one_left_alone(
    server, admin, odoo_db, shop
):
    """Odoo kills the worker of a job running past limit_time_real: the
    channel shows blocked until the job is requeued, and the job ends failed
    once killed MAX_KILLS times; a slow job within the limit is never touched."""
    slow_shop = make_backend(admin, "Slow")
    endless, _r = post_signed(server, shop.token, "test.sleep", {"seconds": 60})
    wait_until(lambda: started_jobs(odoo_db, shop.channel), 30, "drain started")
    blocked = wait_until(
        lambda: admin.call(
            "retail.backend", "read", [shop.backend], ["job_channel_blocked"]
        )[0]["job_channel_blocked"],
        LIMIT,
        "the backend shows its channel blocked",
    )
    assert blocked
    run_watch_cron(admin)
    inbox = [["backend_id", "=", shop.backend], ["name", "ilike", "blocked"]]
    [before] = admin.call("retail.sync.exception", "search_read", inbox, ["state"])
    assert before["state"] == "new", "the inbox shows it before the requeue"
    slow, _r = post_signed(server, slow_shop.token, "test.sleep", {"seconds": 6})
    states = wait_processed(odoo_db, [endless, slow], timeout=LIMIT * MAX_KILLS + 40)
    assert states[slow][0] == "done"
    slow_jobs = jobs_of(odoo_db, slow_shop.channel)
    assert {(state, kills or 0) for _u, state, _r, kills in slow_jobs} == {
        ("done", 0)
    }, "a slow job is never requeued"
    assert states[endless][0] == "failed"
    assert f"killed {MAX_KILLS} times (time limit or memory?)" in states[endless][1]
    [backend] = admin.call(
        "retail.backend", "read", [shop.backend], ["job_channel_blocked"]
    )
    assert not backend["job_channel_blocked"]
    run_watch_cron(admin)
    [after] = admin.call("retail.sync.exception", "read", [before["id"]], ["state"])
    assert after["state"] == "resolved", "and resolves it once the channel runs"


def postgresql_cluster():
    """(version, name) of the local cluster serving PGPORT (5432)."""
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster"):
        pytest.fail(
            "restarting PostgreSQL needs root and pg_ctlcluster (Debian's "
            "postgresql-common); run this test where both are available"
        )
    port = os.environ.get("PGPORT", "5432")
    lines = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for version, name, cluster_port, status, *_rest in map(str.split, lines):
        if cluster_port == port and status.startswith("online"):
            return version, name
    pytest.fail(f"no online PostgreSQL cluster on port {port}: {lines}")


def test_postgresql_restarted_mid_load_every_message_done_once(
    server, admin, odoo_db, shop
):
    version, name = postgresql_cluster()
    with ThreadPoolExecutor(1) as background:
        posting = background.submit(
            post_orders, server, shop, [f"pg{n}" for n in range(40)]
        )
        wait_until(lambda: started_jobs(odoo_db, shop.channel), 30, "jobs running")
        subprocess.run(["pg_ctlcluster", version, name, "restart"], check=True)
        accepted = posting.result()
    states = wait_processed(odoo_db, list(accepted.values()))
    assert {state for state, _error in states.values()} == {"done"}, states
    # the job runner resumed by itself
    after = wait_until(
        lambda: post_orders(server, shop, ["pg-after"]), 30, "a webhook accepted"
    )
    wait_processed(odoo_db, list(after.values()), timeout=60)
    names = [f"#{shop.run}-{n}" for n in [*accepted, *after]]
    orders = wait_until(
        lambda: _orders_or_none(admin, shop, names), 30, "the server answering"
    )
    assert {o["state"] for o in orders.values()} == {"sale"}
    # the last drain ends once it has found nothing more for a second
    wait_until(lambda: not started_jobs(odoo_db, shop.channel), 15, "drains ended")


def _orders_or_none(admin, shop, names):
    try:
        return orders_by_name(admin, shop, names)
    except (RuntimeError, requests.RequestException):
        return None
