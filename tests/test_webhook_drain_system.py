"""The message table as the queue, against a real server (--workers=2 and
queue_job's runner): a burst makes a few drain jobs, not one job per message;
two drains of one backend at once share no message and keep each
aggregate's order. A worker killed in the middle of a drain:
test_dead_workers.py (every order imported once, one attempt each)."""

import json
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import ODOO_BIN
from odoo_client import OdooClient
from test_dead_workers import db_rows, wait_until
from test_webhook_system import make_endpoint, post, signed

BURST = 1000
POSTERS = 8


@pytest.fixture(scope="module")
def admin(odoo_server, odoo_db):
    return OdooClient(odoo_server, odoo_db)


def test_a_burst_makes_a_few_drain_jobs_and_every_message_done(
    odoo_server, admin, odoo_db
):
    run = uuid.uuid4().hex[:8]
    backend = admin.call(
        "retail.backend",
        "create",
        {"name": f"Burst {run}", "code": f"burst_{run}", "state": "active"},
    )
    token = make_endpoint(
        admin, backend, name=f"Burst {run}", rate_limit=5000, rate_burst=5000
    )
    [channel] = db_rows(
        odoo_db, "SELECT job_channel FROM retail_backend WHERE id = %s", [backend]
    )[0]

    def send(n):
        return post(odoo_server, token, *signed(f"burst-{run}-{n}")).status_code

    with ThreadPoolExecutor(POSTERS) as pool:
        statuses = list(pool.map(send, range(BURST)))
    assert statuses == [202] * BURST
    wait_until(
        lambda: db_rows(
            odoo_db,
            """SELECT count(*) = %s FROM retail_inbound_message
               WHERE backend_id = %s AND state = 'done'""",
            [BURST, backend],
        )[0][0],
        120,
        "every message done",
    )
    [(jobs, drains)] = db_rows(
        odoo_db,
        """SELECT count(*), count(*) FILTER (WHERE method_name = '_webhook_drain')
           FROM queue_job WHERE channel = %s""",
        [channel],
    )
    assert jobs == drains, "no job but the drains"
    assert drains <= 10, f"{drains} drain jobs for {BURST} messages"
    [(attempts,)] = db_rows(
        odoo_db,
        "SELECT DISTINCT attempts FROM retail_inbound_message WHERE backend_id = %s",
        [backend],
    )
    assert attempts == 1


# Run by odoo-bin shell: two threads drain one backend, each on its cursor,
# committing each batch, as two drain jobs do; the handler notes each run.
TWO_DRAINS = """
import json, threading
from unittest.mock import patch
from psycopg2.extensions import TransactionRollbackError
from odoo import SUPERUSER_ID, api
from odoo.addons.retail_integration_webhook.models.retail_inbound_message import (
    RetailInboundMessage,
)

backend = env["retail.backend"].create(
    {"name": "Two drains %(run)s", "code": "two_%(run)s", "state": "active"})
endpoint = env["retail.webhook.endpoint"].create(
    {"name": "two %(run)s", "backend_id": backend.id, "scheme": "standard"})
env.cr.execute(
    '''INSERT INTO retail_inbound_message
           (endpoint_id, backend_id, company_id, topic, delivery_id, aggregate_key,
            received_at, body, state, attempts)
       SELECT %%s, %%s, %%s, 'ping', 'two-%(run)s-' || n, 'order-' || n %%%% 7,
              now() AT TIME ZONE 'UTC', '{}', 'queued', 0
       FROM generate_series(1, %(count)s) n''',
    [endpoint.id, backend.id, endpoint.company_id.id])
env.cr.commit()
runs, lock = [], threading.Lock()

def handle(records, payload):
    with lock:
        runs.append((records.id, records.aggregate_key))
    return "ok"

def drain():
    with env.registry.cursor() as cr:
        e = api.Environment(cr, SUPERUSER_ID, {})
        b = e["retail.backend"].browse(backend.id)
        idle = 0
        while idle < 20:
            try:
                claimed = e["retail.inbound.message"]._drain_batch(b, 10)
                cr.commit()
            except TransactionRollbackError:
                cr.rollback()
                continue
            idle = 0 if claimed else idle + 1

with patch.object(RetailInboundMessage, "_handle_ping", handle):
    threads = [threading.Thread(target=drain) for _i in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
print("RUNS=" + json.dumps(runs))
"""


def test_two_drains_of_one_backend_share_no_message_and_keep_aggregate_order(
    odoo_env,
):
    count = 300
    script = TWO_DRAINS % {"run": uuid.uuid4().hex[:8], "count": count}
    done = subprocess.run(
        [
            odoo_env["RETAIL_TEST_PYTHON"],
            str(ODOO_BIN),
            "shell",
            "-c",
            odoo_env["RETAIL_TEST_ODOO_CONF"],
            "-d",
            odoo_env["RETAIL_TEST_DB"],
            "--no-http",
            "--log-level=warn",
        ],  # fmt: skip
        input=script,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RUNS=")]
    assert lines, done.stdout[-2000:] + done.stderr[-2000:]
    runs = json.loads(lines[0].removeprefix("RUNS="))
    ids = [message_id for message_id, _key in runs]
    assert len(ids) == count
    assert len(set(ids)) == count, "no message ran twice"
    for key in {key for _id, key in runs}:
        ran = [message_id for message_id, k in runs if k == key]
        assert ran == sorted(ran), f"aggregate {key} out of order"


def test_a_retry_waits_for_its_time_then_a_wake_up_drains_it(
    odoo_server, admin, odoo_db
):
    """A message set to retry in 3 s (as a transient failure does) is
    processed by the wake-up its drain queued, with no new webhook."""
    run = uuid.uuid4().hex[:8]
    backend = admin.call(
        "retail.backend",
        "create",
        {"name": f"Wake {run}", "code": f"wake_{run}", "state": "active"},
    )
    token = make_endpoint(admin, backend, name=f"Wake {run}")
    db_rows(
        odoo_db,
        """INSERT INTO retail_inbound_drain (backend_id, slot, armed_at, job_uuid)
           VALUES (%s, 0, now(), 'held-by-a-test') RETURNING 1""",
        [backend],
    )  # no drain runs while the test sets the retry up
    delivery = f"wake-{run}"
    assert post(odoo_server, token, *signed(delivery)).status_code == 202
    db_rows(
        odoo_db,
        """UPDATE retail_inbound_message
           SET attempts = 1, next_attempt_at = (now() AT TIME ZONE 'UTC')
               + interval '3 seconds'
           WHERE delivery_id = %s RETURNING 1""",
        [delivery],
    )
    db_rows(
        odoo_db,
        "DELETE FROM retail_inbound_drain WHERE backend_id = %s RETURNING 1",
        [backend],
    )
    other = f"wake-other-{run}"
    assert post(odoo_server, token, *signed(other)).status_code == 202
    started = time.monotonic()
    wait_until(
        lambda: db_rows(
            odoo_db,
            """SELECT bool_and(state = 'done') FROM retail_inbound_message
               WHERE delivery_id IN (%s, %s)""",
            [delivery, other],
        )[0][0],
        60,
        "the retried message processed after its time",
    )
    assert time.monotonic() - started >= 2
