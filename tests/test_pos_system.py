"""Store POS uploads against a real ``--workers=2`` server whose job runner
runs two jobs of one backend at the same time: the same batch of tickets
posted twice at once (a store retrying while its first upload is still in
flight) imports each ticket exactly once; the day's Z report then balances
and the session is closed and posted."""

import json
import random
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import psycopg2
import pytest
import requests
from odoo_client import OdooClient
from test_webhook_system import make_endpoint

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from harness import load_lib  # noqa: E402

standard_webhooks = load_lib("retail_integration/lib/standard_webhooks.py")
SECRET = standard_webhooks.generate_secret()
CAPACITY = 2  # jobs of the test backend's channel at the same time
SERVER_OPTIONS = {
    "options": {"retail_channel_capacity": CAPACITY},
    "queue_job": {"channels": f"root:{2 * CAPACITY},root.retail:{2 * CAPACITY}"},
}
TICKETS = 300
DUPLICATES = 15  # tickets repeated inside the batch
TIMEOUT = 120
DAY = "2026-11-20"


def db_rows(db, query, params):
    with psycopg2.connect(dbname=db) as cnx, cnx.cursor() as cr:
        cr.execute(query, params)
        return cr.fetchall()


@pytest.fixture(scope="module")
def server(request, odoo_process):
    try:
        yield odoo_process.restart(options=SERVER_OPTIONS)
    finally:
        odoo_process.restart()


@pytest.fixture(scope="module")
def store(server, odoo_db):
    admin = OdooClient(server, odoo_db)
    run = uuid.uuid4().hex[:8]
    [user] = admin.call(
        "res.users", "search_read", [["login", "=", "admin"]], ["company_id"]
    )
    company = user["company_id"][0]
    [warehouse] = admin.call(
        "stock.warehouse", "search", [["company_id", "=", company]], limit=1
    )
    [bank] = admin.call(
        "account.journal",
        "search",
        [["type", "=", "bank"], ["company_id", "=", company]],
        limit=1,
    )
    card = admin.call(
        "pos.payment.method",
        "create",
        {"name": f"Card {run}", "journal_id": bank, "company_id": company},
    )
    sku = f"SYS-POS-{run}"
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
    backend = admin.call(
        "retail.backend",
        "create",
        {
            "name": f"System stores {run}",
            "code": f"sys_pos_{run}",
            "channel_type": "pos",
            "state": "active",
            "pos_chunk_size": 50,
            "pos_payment_map_ids": [
                (0, 0, {"code": "card", "payment_method_id": card})
            ],
            "pos_store_ids": [
                (
                    0,
                    0,
                    {
                        "name": f"Store {run}",
                        "code": "S1",
                        "warehouse_id": warehouse,
                        "register_ids": [(0, 0, {"code": "R1"})],
                    },
                )
            ],
        },
    )
    admin.call("retail.backend", "action_pos_create_configs", [backend])
    token = make_endpoint(
        admin,
        backend,
        name=f"Stores {run}",
        secret=SECRET,
        rate_limit=1000,
        rate_burst=1000,
        max_body_size=4 * 1024 * 1024,
    )
    return SimpleNamespace(admin=admin, backend=backend, token=token, sku=sku)


def ticket(store, n):
    return {
        "store": "S1",
        "register": "R1",
        "number": str(n),
        "business_date": DAY,
        "lines": [{"sku": store.sku, "quantity": 1 + n % 3, "unit_price": "2.50"}],
        "payments": [{"method": "card", "amount": f"{2.5 * (1 + n % 3):.2f}"}],
    }


def post(server, store, topic, data, delivery_id):
    body = json.dumps({"type": topic, "timestamp": time.time(), "data": data}).encode()
    headers = {
        "Content-Type": "application/json",
        **standard_webhooks.headers(SECRET, delivery_id, int(time.time()), body),
    }
    return requests.post(
        f"{server}/retail/webhook/{store.token}", data=body, headers=headers, timeout=60
    )


def wait_for(check, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    return check()


def test_the_same_batch_twice_at_once_imports_each_ticket_once(server, store, odoo_db):
    numbers = list(range(1, TICKETS + 1))
    batch = [ticket(store, n) for n in numbers]
    batch += [ticket(store, n) for n in random.Random(7).sample(numbers, DUPLICATES)]
    random.Random(3).shuffle(batch)
    assert len(batch) <= 500
    barrier = threading.Barrier(2, timeout=30)
    responses = [None, None]

    def send(side):
        barrier.wait()
        responses[side] = post(
            server,
            store,
            "pos.tickets",
            {"tickets": batch},
            f"pos-sys-{side}-{uuid.uuid4().hex}",
        )

    threads = [threading.Thread(target=send, args=(side,)) for side in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [202, 202], [r.text for r in responses]

    def imported():
        [(done, pending)] = db_rows(
            odoo_db,
            """SELECT count(*) FILTER (WHERE state = 'done'),
                      count(*) FILTER (WHERE state NOT IN ('done', 'failed'))
               FROM retail_pos_ticket WHERE backend_id = %s""",
            [store.backend],
        )
        [(unfinished,)] = db_rows(
            odoo_db,
            """SELECT count(*) FROM retail_inbound_message
               WHERE backend_id = %s AND state NOT IN ('done', 'failed')""",
            [store.backend],
        )
        return done == TICKETS and not pending and not unfinished

    assert wait_for(imported), "every ticket imported, both uploads processed"
    messages = db_rows(
        odoo_db,
        "SELECT state, result FROM retail_inbound_message WHERE backend_id = %s",
        [store.backend],
    )
    assert [m[0] for m in messages] == ["done", "done"], messages
    [(orders, distinct, twice)] = db_rows(
        odoo_db,
        """SELECT count(*), count(DISTINCT retail_ticket_id),
                  (SELECT count(*) FROM (SELECT t.number FROM pos_order o
                     JOIN retail_pos_ticket t ON t.id = o.retail_ticket_id
                     WHERE o.retail_backend_id = %(b)s
                     GROUP BY t.number HAVING count(*) > 1) AS d)
           FROM pos_order WHERE retail_backend_id = %(b)s""",
        {"b": store.backend},
    )
    assert (orders, distinct, twice) == (TICKETS, TICKETS, 0)
    new = sum(int(result.split(": ")[1].split(" new")[0]) for _s, result in messages)
    assert new == TICKETS, messages
    [(sessions,)] = db_rows(
        odoo_db,
        """SELECT count(DISTINCT session_id) FROM pos_order
           WHERE retail_backend_id = %s""",
        [store.backend],
    )
    assert sessions == 1, "one session per register and business day"

    # The day's Z report balances: the session is closed and posted.
    total = sum(2.5 * (1 + n % 3) for n in numbers)
    response = post(
        server,
        store,
        "pos.zreport",
        {
            "store": "S1",
            "register": "R1",
            "business_date": DAY,
            "ticket_count": TICKETS,
            "first_number": "1",
            "last_number": str(TICKETS),
            "totals": [{"method": "card", "amount": f"{total:.2f}"}],
        },
        f"pos-sys-z-{uuid.uuid4().hex}",
    )
    assert response.status_code == 202

    def posted():
        rows = db_rows(
            odoo_db,
            """SELECT z.state, s.state, m.state FROM retail_pos_zreport z
               JOIN pos_session s ON s.id = z.session_id
               LEFT JOIN account_move m ON m.id = s.move_id
               WHERE z.backend_id = %s""",
            [store.backend],
        )
        return rows if rows and rows[0][0] == "posted" else None

    assert wait_for(posted) == [("posted", "closed", "posted")]
