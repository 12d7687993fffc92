import json
from datetime import timedelta

from odoo import api, fields, models


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    @api.model
    def _pos_load_demo(self, backend_xmlid):
        """Demo data: the demo POS backend's store with two registers and a
        few days of tickets sent as the store would (3 days ago balanced and
        posted; 2 days ago a ticket missing and a cash difference; yesterday
        no Z report yet)."""
        backend = self.env.ref(backend_xmlid)
        if backend.pos_store_ids.register_ids.pos_config_id:
            return
        company = backend.company_id
        bank = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
        )
        card = self.env["pos.payment.method"].create(
            {"name": "Store Card", "journal_id": bank.id, "company_id": company.id}
        )
        backend.pos_payment_map_ids = [
            (0, 0, {"code": "cash", "is_cash": True}),
            (0, 0, {"code": "card", "payment_method_id": card.id}),
        ]
        backend.action_pos_create_configs()
        endpoint = self.env.ref("retail_integration_pos.demo_endpoint_pos")
        # The second day's Z report finds a ticket missing: no wait, the
        # difference is in the inbox at once.
        deadline = backend.pos_settlement_deadline_hours
        backend.pos_settlement_deadline_hours = 0
        today = fields.Date.context_today(self)
        days = [today - timedelta(days=n) for n in (3, 2, 1)]
        Message = self.env["retail.inbound.message"].with_context(
            queue_job__no_delay=True
        )

        def send(topic, data, n):
            message = Message._insert_once(
                endpoint,
                topic=topic,
                delivery_id=f"demo-{topic}-{n}",
                body=json.dumps({"type": topic, "data": data}),
                body_hash=f"demo-{n}",
                headers={},
                state="queued",
                correlation_id=f"demo-pos-{n}",
            )
            if message:
                message.with_context(queue_job__no_delay=True)._process()

        for d, day in enumerate(days):
            tickets = []
            for n in range(1, 7):
                if d == 1 and n == 4:
                    continue  # never sent: a gap in the register's sequence
                cash = n % 3 == 0
                tickets.append(
                    {
                        "store": "HIGHST",
                        "register": "T1",
                        "number": f"{d + 1}{n:03d}",
                        "business_date": day.isoformat(),
                        "timestamp": f"{day.isoformat()}T{9 + n}:15:00Z",
                        "cashier": "Alex",
                        "lines": [
                            {
                                "sku": "DEMO-POS-SCARF",
                                "quantity": 1,
                                "unit_price": "19.90",
                            },
                            {
                                "barcode": "2000000000015",
                                "quantity": n % 2 + 1,
                                "unit_price": "4.50",
                            },
                        ],
                        "payments": [
                            {
                                "method": "cash" if cash else "card",
                                "amount": str(round(19.9 + 4.5 * (n % 2 + 1), 2)),
                            }
                        ],
                    }
                )
            send("pos.tickets", {"tickets": tickets}, f"t{d}")
            if d < 2:
                expected = {"cash": 0.0, "card": 0.0}
                for n in range(1, 7):
                    amount = round(19.9 + 4.5 * (n % 2 + 1), 2)
                    expected["cash" if n % 3 == 0 else "card"] += amount
                send(
                    "pos.zreport",
                    {
                        "store": "HIGHST",
                        "register": "T1",
                        "business_date": day.isoformat(),
                        "ticket_count": 6,
                        "first_number": f"{d + 1}001",
                        "last_number": f"{d + 1}006",
                        "totals": [
                            {"method": k, "amount": f"{v:.2f}"}
                            for k, v in expected.items()
                        ],
                        "cash_counted": f"{expected['cash'] - (5 if d else 0):.2f}",
                    },
                    f"z{d}",
                )
        backend.pos_settlement_deadline_hours = deadline
