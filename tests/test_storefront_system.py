"""Storefront order webhooks against a real server whose job runner runs
several jobs of one backend at the same time: the messages of one channel order,
processed together, still make one right sale order."""

import itertools
import json
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
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
payloads = load_lib("retail_integration_storefront/tests/payloads.py")
SECRET = standard_webhooks.generate_secret()

# Jobs of the test backend's channel at the same time (lib/channels.py); each
# holds an HTTP worker while it runs, and the webhooks need workers too.
CAPACITY = 4
SERVER_OPTIONS = {
    # as many drains of the backend's messages, each on small batches: the
    # messages of one order run at the same time in two of them
    "options": {
        "retail_channel_capacity": CAPACITY,
        "retail_webhook_drains_per_backend": CAPACITY,
        "retail_webhook_drain_batch": 2,
    },
    "queue_job": {"channels": f"root:{2 * CAPACITY},root.retail:{2 * CAPACITY}"},
}
WORKERS = CAPACITY + 2
ORDERS = 10  # channel orders whose created and paid arrive together
UPDATED_ORDERS = 5  # channel orders whose update arrives before the create
PROCESS_TIMEOUT = 45  # seconds for every message to be processed
FINAL_STATES = ("done", "failed", "ignored")
OLDER, NEWER = "2025-03-01T10:00:00Z", "2025-03-01T11:00:00Z"
CREATED_PAID, UPDATED_CREATED = "created+paid", "updated-then-created"


def _tests_after(request):
    """Whether tests of other modules are still to run in this session."""
    if request.session.shouldfail or request.session.shouldstop:
        return False
    items = request.session.items
    mine = [
        n
        for n, item in enumerate(items)
        if item.getparent(pytest.Module) is request.node
    ]
    return bool(mine) and mine[-1] + 1 < len(items)


@pytest.fixture(scope="module")
def server(request, odoo_process):
    """The test server, restarted with room for CAPACITY jobs of one backend."""
    try:
        yield odoo_process.restart(
            extra_args=[f"--workers={WORKERS}"], options=SERVER_OPTIONS
        )
    finally:
        if _tests_after(request):
            odoo_process.restart()  # the suite's usual server for the next tests


@pytest.fixture(scope="module")
def admin(server, odoo_db):
    return OdooClient(server, odoo_db)


@pytest.fixture(scope="module")
def shop(admin):
    """A generic storefront backend that confirms paid orders, its endpoint,
    and products with SKUs of this run's own."""
    run = uuid.uuid4().hex[:8]
    [user] = admin.call(
        "res.users", "search_read", [["login", "=", "admin"]], ["company_id"]
    )
    company = user["company_id"][0]
    [company_row] = admin.call("res.company", "read", [company], ["currency_id"])
    currency_id, currency = company_row["currency_id"]
    pricelist = admin.call(
        "product.pricelist",
        "create",
        {"name": f"Web {run}", "currency_id": currency_id, "company_id": company},
    )
    [warehouse] = admin.call(
        "stock.warehouse", "search", [["company_id", "=", company]], limit=1
    )
    skus = [f"SYS-{run}-1", f"SYS-{run}-2"]
    for sku in skus:
        admin.call(
            "product.product",
            "create",
            {
                "name": f"System {sku}",
                "default_code": sku,
                "is_storable": True,
                "taxes_id": [(6, 0, [])],
            },
        )
    shipping = admin.call(
        "product.product",
        "create",
        {"name": f"Shipping {run}", "type": "service", "taxes_id": [(6, 0, [])]},
    )
    backend = admin.call(
        "retail.backend",
        "create",
        {
            "name": f"System storefront {run}",
            "code": f"sys_sf_{run}",
            "provider": "generic",
            "channel_type": "storefront",
            "state": "active",
            "warehouse_id": warehouse,
            "pricelist_id": pricelist,
            "storefront_shipping_product_id": shipping,
            "storefront_auto_confirm": True,  # "Confirm When Paid"
        },
    )
    token = make_endpoint(
        admin,
        backend,
        name=f"System storefront hooks {run}",
        secret=SECRET,
        rate_limit=1000,
        rate_burst=1000,
    )
    return SimpleNamespace(
        run=run, backend=backend, token=token, currency=currency, skus=skus
    )


def customer_email(shop, n):
    return f"buyer-{shop.run}-{n}@example.com"


def order_data(shop, n, **overrides):
    """Channel order ``n`` of this run, selling the run's products: 62.00 in all
    (2 x 20 - 5 discount, 1 x 10, shipping 17)."""
    data = payloads.generic_order(
        id=f"{shop.run}-{n}",
        name=f"#{shop.run}-{n}",
        currency=shop.currency,
        total="62.00",
        customer={
            "id": f"{shop.run}-C{n}",
            "email": customer_email(shop, n),
            "name": f"Buyer {n} of {shop.run}",
        },
        lines=[
            {
                "id": "1",
                "sku": shop.skus[0],
                "quantity": 2,
                "unit_price": "20.00",
                "discount": "5.00",
                "discount_code": "TENOFF",
            },
            {"id": "2", "sku": shop.skus[1], "quantity": 1, "unit_price": "10.00"},
        ],
        shipping=[{"code": "standard", "name": "Standard", "price": "17.00"}],
    )
    data.update(overrides)
    return data


def post_signed(url, token, topic, data):
    """POST one signed webhook as the channel would; (delivery id, response)."""
    delivery_id = f"sf-sys-{uuid.uuid4().hex}"
    body = json.dumps({"type": topic, "timestamp": time.time(), "data": data})
    body = body.encode()
    now = int(time.time())
    headers = {
        "Content-Type": "application/json",
        **standard_webhooks.headers(SECRET, delivery_id, now, body),
    }
    response = requests.post(
        f"{url}/retail/webhook/{token}", data=body, headers=headers, timeout=60
    )
    return delivery_id, response


def post_pairs(url, token, pairs):
    """POST the two webhooks of each ``(first, second, in_order)`` pair from
    two threads released together, pair after pair; with ``in_order``, the
    second leaves as soon as the first is accepted. Returns the pairs'
    delivery ids."""
    barrier = threading.Barrier(2, timeout=120)
    first_accepted = [threading.Event() for _pair in pairs]
    sent = [[None, None] for _pair in pairs]

    def sender(side):
        for n, pair in enumerate(pairs):
            barrier.wait()
            if side and pair[2]:
                first_accepted[n].wait(60)
            sent[n][side] = post_signed(url, token, *pair[side])
            if not side:
                first_accepted[n].set()

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(sender, side) for side in (0, 1)]:
            future.result()
    refused = [
        (response.status_code, response.text)
        for pair in sent
        for _id, response in pair
        if response.status_code != 202
    ]
    assert not refused, refused
    return [tuple(delivery_id for delivery_id, _r in pair) for pair in sent]


def wait_until_processed(admin, delivery_ids, timeout=PROCESS_TIMEOUT):
    """The inbound messages once all are processed; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        messages = admin.call(
            "retail.inbound.message",
            "search_read",
            [["delivery_id", "in", delivery_ids]],
            [
                *("delivery_id", "topic", "state", "result", "error", "attempts"),
                *("res_model", "res_id"),
            ],
        )
        unfinished = [m for m in messages if m["state"] not in FINAL_STATES]
        if len(messages) == len(delivery_ids) and not unfinished:
            return messages
        if time.monotonic() > deadline:
            pytest.fail(
                f"{len(unfinished)} of {len(delivery_ids)} messages not processed "
                f"within {timeout} s ({len(messages)} stored); message states: "
                f"{dict(Counter(m['state'] for m in messages))}"
            )
        time.sleep(0.5)


@pytest.fixture(scope="module")
def burst(server, admin, shop):
    """Both cases' webhooks, in one burst (so that they wait out the retry
    delay of lock conflicts together); their messages once all are processed.

    - created+paid: each order's order.created (pending) and order.paid arrive
      at the same time;
    - updated-then-created: order.updated (newer, paid, 2 caps instead of 1)
      arrives just before order.created (older, pending) of the same order.
    """
    cases = {CREATED_PAID: [], UPDATED_CREATED: []}
    pairs = []
    numbers = itertools.count()
    for n in range(max(ORDERS, UPDATED_ORDERS)):
        if n < ORDERS:
            number = next(numbers)
            cases[CREATED_PAID].append((number, len(pairs)))
            created = order_data(
                shop, number, updated_at=OLDER, financial_status="pending"
            )
            paid = order_data(shop, number, updated_at=NEWER)
            pairs.append((("order.created", created), ("order.paid", paid), False))
        if n < UPDATED_ORDERS:
            number = next(numbers)
            cases[UPDATED_CREATED].append((number, len(pairs)))
            newer = order_data(shop, number, updated_at=NEWER, total="72.00")
            newer["lines"][1]["quantity"] = 2
            older = order_data(
                shop, number, updated_at=OLDER, financial_status="pending"
            )
            pairs.append((("order.updated", newer), ("order.created", older), True))
    sent = post_pairs(server, shop.token, pairs)
    messages = wait_until_processed(admin, [i for pair in sent for i in pair])
    by_delivery = {m["delivery_id"]: m for m in messages}
    return {
        case: SimpleNamespace(
            numbers=[number for number, _pair in orders],
            names=[f"#{shop.run}-{number}" for number, _pair in orders],
            messages=[by_delivery[i] for _n, pair in orders for i in sent[pair]],
        )
        for case, orders in cases.items()
    }


def drain_runs(db, backend):
    """(uuid, state, started, done, attempts) of the backend's drain jobs, to
    the microsecond (JSON-RPC gives datetimes to the second)."""
    with psycopg2.connect(dbname=db) as cnx, cnx.cursor() as cr:
        cr.execute(
            """SELECT uuid, state, date_started, date_done, retry FROM queue_job
               WHERE method_name = '_webhook_drain' AND channel = (
                   SELECT job_channel FROM retail_backend WHERE id = %s)""",
            [backend],
        )
        return cr.fetchall()


def concurrency(runs):
    """(pairs of jobs whose last attempts overlapped in time, most jobs running
    at once). A postponed job's date_started is that of its last attempt."""
    spans = [(started, done) for _u, _s, started, done, _r in runs if started]
    overlapping = sum(
        1
        for (start_a, done_a), (start_b, done_b) in itertools.combinations(spans, 2)
        if start_a < done_b and start_b < done_a
    )
    running = most = 0
    # at equal times an end sorts first: runs that only touch did not overlap
    for _at, step in sorted([(s, 1) for s, _d in spans] + [(d, -1) for _s, d in spans]):
        running += step
        most = max(most, running)
    return overlapping, most


def check_processing(odoo_db, case, label, capsys, shop):
    """Every message done, and its backend's drains; how many drains
    overlapped (printed)."""
    failed = [m for m in case.messages if m["state"] != "done"]
    assert not failed, [(m["topic"], m["state"], m["error"]) for m in failed]
    # A drain ends a moment after its last message (it waits a second for
    # more, then hands its flag back).
    deadline = time.monotonic() + 30
    runs = drain_runs(odoo_db, shop.backend)
    while {state for _u, state, *_rest in runs} != {"done"}:
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
        runs = drain_runs(odoo_db, shop.backend)
    assert {state for _u, state, *_rest in runs} == {"done"}, runs
    overlapping, most = concurrency(runs)
    postponed = sum(1 for m in case.messages if m["attempts"] > 1)
    summary = (
        f"{label}: {len(runs)} drains, {overlapping} overlapping pairs, at most "
        f"{most} at once, {postponed} messages postponed once or more (the other "
        f"message of their order held its lock, or a serialization conflict)"
    )
    with capsys.disabled():
        print(f"\n{summary}")
    return overlapping, summary


def orders_by_name(admin, shop, names):
    """The one sale order of each channel order name (asserted)."""
    orders = admin.call(
        "sale.order",
        "search_read",
        [["retail_order_name", "in", names]],
        [
            *("retail_order_name", "client_order_ref", "state", "amount_total"),
            *("retail_payment_state", "retail_updated_at", "retail_backend_id"),
        ],
    )
    grouped = defaultdict(list)
    for order in orders:
        grouped[order["retail_order_name"]].append(order)
    counts = {name: len(grouped[name]) for name in names}
    assert counts == dict.fromkeys(names, 1), f"sale orders per channel order: {counts}"
    refs = admin.call(
        "retail.external.ref",
        "search_count",
        [
            ["backend_id", "=", shop.backend],
            ["res_model", "=", "sale.order"],
            ["external_id", "in", [name.removeprefix("#") for name in names]],
        ],
    )
    assert refs == len(names), "one external reference per channel order"
    return {name: grouped[name][0] for name in names}


def test_create_and_paid_of_an_order_at_once_make_one_paid_order(
    burst, admin, odoo_db, shop, capsys
):
    case = burst[CREATED_PAID]
    overlapping, summary = check_processing(odoo_db, case, CREATED_PAID, capsys, shop)
    assert overlapping, f"no two drains ever ran at the same time: {summary}"

    orders = orders_by_name(admin, shop, case.names)
    for name, order in orders.items():
        assert (
            order["state"],
            order["retail_payment_state"],
            order["amount_total"],
            order["client_order_ref"],
            order["retail_backend_id"][0],
        ) == ("sale", "paid", 62.0, name, shop.backend), order
    # both messages of an order name its one sale order
    name_of = {order["id"]: name for name, order in orders.items()}
    linked = Counter(
        name_of.get(m["res_id"])
        for m in case.messages
        if m["res_model"] == "sale.order"
    )
    assert linked == dict.fromkeys(case.names, 2), linked
    # one customer each, though both messages brought it
    emails = [customer_email(shop, n) for n in case.numbers]
    customers = admin.call(
        "res.partner", "search_read", [["email", "in", emails]], ["email"]
    )
    assert sorted(c["email"] for c in customers) == sorted(emails), customers


def test_update_before_create_at_once_keeps_the_newer_version(
    burst, admin, odoo_db, shop, capsys
):
    """The newer version wins, whichever of the two jobs ran first."""
    case = burst[UPDATED_CREATED]
    check_processing(odoo_db, case, UPDATED_CREATED, capsys, shop)

    orders = orders_by_name(admin, shop, case.names)
    for order in orders.values():
        assert (
            order["state"],
            order["retail_payment_state"],
            order["amount_total"],
            order["retail_updated_at"],
        ) == ("sale", "paid", 72.0, "2025-03-01 11:00:00"), order
    caps = admin.call(
        "sale.order.line",
        "search_read",
        [
            ["order_id", "in", [order["id"] for order in orders.values()]],
            ["product_id.default_code", "=", shop.skus[1]],
        ],
        ["product_uom_qty"],
    )
    assert [line["product_uom_qty"] for line in caps] == [2.0] * len(orders), caps
