"""Label purchase against a real ``--workers=2`` server and its job runner:
the carrier's API answers 500 to the first label purchase after buying it
(the answer is lost). The retry looks the shipment up, finds the label and
never buys a second one."""

import sys
import time
import uuid
from pathlib import Path

import psycopg2
import pytest
from odoo_client import OdooClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from harness import load_lib  # noqa: E402

easypost_server = load_lib("retail_integration_carrier/tests/easypost_server.py")
JOB_TIMEOUT = 90  # seconds: the first retry waits 10 s, the runner polls


@pytest.fixture(scope="module")
def admin(odoo_server, odoo_db):
    return OdooClient(odoo_server, odoo_db)


@pytest.fixture(scope="module")
def stand_in():
    with easypost_server.EasyPostServer() as server:
        yield server


@pytest.fixture(scope="module")
def carrier(admin, stand_in):
    """An active EasyPost backend on the stand-in, its shipping method, a
    consumable product with a weight and a US customer."""
    run = uuid.uuid4().hex[:8]
    backend = admin.call(
        "retail.backend",
        "create",
        {
            "name": f"System EasyPost {run}",
            "code": f"sys_easypost_{run}",
            "channel_type": "carrier",
            "provider": "easypost",
            "carrier_api_url": stand_in.api_base,
            "api_key": easypost_server.API_KEY,
            "state": "active",
        },
    )
    service = admin.call(
        "product.product", "create", {"name": f"Shipping {run}", "type": "service"}
    )
    carrier = admin.call(
        "delivery.carrier",
        "create",
        {
            "name": f"System USPS {run}",
            "delivery_type": "retail_easypost",
            "product_id": service,
            "retail_backend_id": backend,
            "retail_provider_carrier": "USPS",
            "retail_service": "Priority",
        },
    )
    product = admin.call(
        "product.product",
        "create",
        {
            "name": f"Parcel goods {run}",
            "default_code": f"SYS-{run}",
            "type": "consu",  # not tracked in stock: always available
            "weight": 0.5,
        },
    )
    [warehouse] = admin.call(
        "stock.warehouse", "search_read", [], ["partner_id"], limit=1
    )
    admin.call(
        "res.partner",
        "write",
        [warehouse["partner_id"][0]],
        {
            "street": "417 Montgomery St",
            "city": "San Francisco",
            "zip": "94104",
            "country_id": _ref(admin, "US"),
        },
    )
    customer = admin.call(
        "res.partner",
        "create",
        {
            "name": f"Customer {run}",
            "street": "388 Townsend St",
            "city": "San Francisco",
            "zip": "94107",
            "country_id": _ref(admin, "US"),
        },
    )
    return {
        "backend": backend,
        "carrier": carrier,
        "product": product,
        "customer": customer,
    }


def _ref(admin, code):
    [country] = admin.call("res.country", "search", [("code", "=", code)])
    return country


def _delivery(admin, carrier):
    order = admin.call(
        "sale.order",
        "create",
        {
            "partner_id": carrier["customer"],
            "carrier_id": carrier["carrier"],
            "order_line": [
                (0, 0, {"product_id": carrier["product"], "product_uom_qty": 2})
            ],
        },
    )
    admin.call("sale.order", "action_confirm", [order])
    [picking] = admin.call("sale.order", "read", [order], ["picking_ids"])[0][
        "picking_ids"
    ]
    return picking


def _shipment(db, picking):
    with psycopg2.connect(dbname=db) as cnx, cnx.cursor() as cr:
        cr.execute(
            """SELECT s.state, s.tracking_number, s.attempts, p.carrier_tracking_ref,
                      (SELECT count(*) FROM ir_attachment a
                        WHERE a.res_model = 'stock.picking' AND a.res_id = p.id
                          AND a.name LIKE 'LabelShipping-%%')
                 FROM retail_carrier_shipment s
                 JOIN stock_picking p ON p.id = s.picking_id
                WHERE s.picking_id = %s""",
            [picking],
        )
        return cr.fetchall()


def test_lost_label_answer_is_looked_up_by_the_retry_job(
    admin, carrier, stand_in, odoo_db
):
    picking = _delivery(admin, carrier)
    buys_before = stand_in.buys
    # The purchase is done, its answer lost; the look-up that follows at once
    # finds the carrier down too: the label is left to the retry job.
    stand_in.script = [
        ("POST", r"/buy$", "lost"),
        ("GET", r"^/v2/shipments/shp_", 503),
    ]
    assert admin.call("stock.picking", "button_validate", [picking]) is True
    [(state, number, _attempts, ref, labels)] = _shipment(odoo_db, picking)
    assert state == "pending" and ref is None and labels == 0
    assert stand_in.buys == buys_before + 1

    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        [(state, number, attempts, ref, labels)] = _shipment(odoo_db, picking)
        if state != "pending":
            break
        time.sleep(1)
    assert state == "bought", f"still {state} after {JOB_TIMEOUT} s"
    assert attempts == 2
    assert ref == number and number.startswith("9400")
    assert labels == 1
    assert stand_in.buys == buys_before + 1, "a second label was bought"
    buy_calls = [r for r in stand_in.calls("POST", r"/buy$")]
    assert len(buy_calls) == 1


def test_lost_answer_found_by_the_immediate_look_up(admin, carrier, stand_in, odoo_db):
    picking = _delivery(admin, carrier)
    buys_before = stand_in.buys
    buy_calls_before = len(stand_in.calls("POST", r"/buy$"))
    stand_in.script = [("POST", r"/buy$", "lost")]
    assert admin.call("stock.picking", "button_validate", [picking]) is True
    [(state, number, attempts, ref, labels)] = _shipment(odoo_db, picking)
    assert (state, attempts, labels) == ("bought", 1, 1)
    assert ref == number
    assert stand_in.buys == buys_before + 1
    assert len(stand_in.calls("POST", r"/buy$")) == buy_calls_before + 1
