"""A store POS backend (a store, two registers with their points of sale,
cash and card), products with SKUs, and a way to feed it webhooks."""

import functools
import itertools
import json
import time
from datetime import date
from pathlib import Path

import jsonschema

from odoo.tests import TransactionCase

from odoo.addons.retail_integration.tests.common import secret_key_patcher
from odoo.addons.retail_integration_webhook.tests.common import SECRETS

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
DAY = date(2026, 12, 3)
_counter = itertools.count()


@functools.cache
def schema(name):
    return jsonschema.Draft202012Validator(
        json.loads((SCHEMAS / f"{name}.v1.json").read_text()),
        format_checker=jsonschema.FormatChecker(),
    )


def ticket(number, lines=None, payments=None, register="R1", store="LYON", **extra):
    """A canonical sale: by default 2 × POS-1 at 10.00 and 1 × POS-2 at
    5.00 (+10 % tax), paid 25.50 by card."""
    lines = lines or [
        {"sku": "POS-1", "quantity": 2, "unit_price": "10.00"},
        {"barcode": "3760000000022", "quantity": 1, "unit_price": "5.00"},
    ]
    payments = payments or [{"method": "card", "amount": "25.50", "reference": "A1"}]
    data = {
        "store": store,
        "register": register,
        "number": str(number),
        "type": "sale",
        "business_date": DAY.isoformat(),
        "timestamp": "2026-12-03T09:30:00Z",
        "cashier": "Marie",
        "lines": lines,
        "payments": payments,
    }
    data.update(extra)
    return data


class PosMixin:
    @classmethod
    def _setup_pos(cls):
        cls.startClassPatcher(secret_key_patcher())
        env = cls.env
        company = env.company
        cls.tax = env["account.tax"].create(
            {
                "name": "POS 10%",
                "amount": 10,
                "type_tax_use": "sale",
                "price_include_override": "tax_excluded",
            }
        )
        Product = env["product.product"]
        cls.product_1 = Product.create(
            {
                "name": "Test Scarf",
                "default_code": "POS-1",
                "is_storable": True,
                "list_price": 10,
                "taxes_id": [(6, 0, [])],
            }
        )
        cls.product_2 = Product.create(
            {
                "name": "Test Gloves",
                "default_code": "POS-2",
                "barcode": "3760000000022",
                "is_storable": True,
                "list_price": 5,
                "taxes_id": [(6, 0, cls.tax.ids)],
            }
        )
        cls.warehouse = env["stock.warehouse"].search(
            [("company_id", "=", company.id)], limit=1
        )
        bank = env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
        )
        cls.card = env["pos.payment.method"].create(
            {"name": "Test Card", "journal_id": bank.id, "company_id": company.id}
        )
        cls.backend = env["retail.backend"].create(
            {
                "name": "Test Stores",
                "code": "test_pos",
                "channel_type": "pos",
                "state": "active",
                "warehouse_id": cls.warehouse.id,
                "pos_settlement_deadline_hours": 6,
                "pos_payment_map_ids": [
                    (0, 0, {"code": "cash", "is_cash": True}),
                    (0, 0, {"code": "card", "payment_method_id": cls.card.id}),
                ],
                "pos_store_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Lyon",
                            "code": "LYON",
                            "warehouse_id": cls.warehouse.id,
                            "register_ids": [
                                (0, 0, {"code": "R1"}),
                                (0, 0, {"code": "R2"}),
                            ],
                        },
                    )
                ],
            }
        )
        cls.backend.action_pos_create_configs()
        cls.store = cls.backend.pos_store_ids
        cls.r1, cls.r2 = cls.store.register_ids.sorted("code")
        cls.endpoint = env["retail.webhook.endpoint"].create(
            {
                "name": "Stores",
                "backend_id": cls.backend.id,
                "scheme": "standard",
                "secret": SECRETS["standard"],
                "max_body_size": 2 * 1024 * 1024,
            }
        )
        cls.env["stock.quant"]._update_available_quantity(
            cls.product_1, cls.store.location_id, 100
        )

    def receive(self, topic, data, endpoint=None, process=True, no_delay=True):
        """Store a webhook as the endpoint would, and run its job and the
        import jobs it queues (queue_job's no-delay mode)."""
        body = {"type": topic, "timestamp": time.time(), "data": data}
        message = self.env["retail.inbound.message"]._insert_once(
            endpoint or self.endpoint,
            topic=topic,
            delivery_id=f"test-{next(_counter)}",
            body=json.dumps(body),
            body_hash="h",
            headers={},
            state="queued",
            correlation_id=f"corr-{next(_counter)}",
        )
        message = message.with_context(queue_job__no_delay=no_delay)
        message._enqueue()
        if process:
            message._process()
        return message

    def send_tickets(self, tickets):
        for data in tickets:
            schema("ticket").validate(data)
        return self.receive("pos.tickets", {"tickets": tickets})

    def send_zreport(self, data):
        schema("zreport").validate(data)
        return self.receive("pos.zreport", data)

    def tickets(self, *numbers, register="R1"):
        return self.env["retail.pos.ticket"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("register_code", "=", register),
                ("number", "in", [str(n) for n in numbers]),
            ]
        )

    def zreport(self, count, totals, register="R1", **extra):
        data = {
            "store": "LYON",
            "register": register,
            "business_date": DAY.isoformat(),
            "ticket_count": count,
            "totals": [{"method": m, "amount": a} for m, a in totals.items()],
        }
        data.update(extra)
        return data


class PosCase(PosMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_pos()
