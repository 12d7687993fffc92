from datetime import date
from decimal import Decimal

import jsonschema

from odoo.tests import BaseCase, tagged

from odoo.addons.retail_integration.lib.parsing import MappingError
from odoo.addons.retail_integration_webhook.lib import schemes

from ..lib import settlement, square
from ..lib.square_scheme import signature
from ..lib.tickets import ZReport, parse_batch, parse_ticket, parse_zreport
from .common import schema, ticket
from .square_server import square_order


@tagged("retail", "-at_install", "post_install")
class TestTicketContract(BaseCase):
    """schemas/ticket.v1.json is what parse_ticket takes."""

    def test_the_schemas_are_valid_and_take_the_samples(self):
        for name in ("ticket", "zreport"):
            jsonschema.Draft202012Validator.check_schema(schema(name).schema)
        samples = [
            ticket(1),
            ticket(
                2,
                type="return",
                lines=[{"sku": "A", "quantity": -1, "unit_price": "2"}],
                payments=[{"method": "cash", "amount": "-2"}],
                original={"number": "1"},
            ),
            ticket(3, type="void", lines=[], payments=[]),
        ]
        for sample in samples:
            schema("ticket").validate(sample)
            parse_ticket(sample)
        z = {
            "store": "S",
            "register": "R",
            "business_date": "2026-12-03",
            "ticket_count": 2,
            "totals": [{"method": "cash", "amount": "3.50"}],
        }
        schema("zreport").validate(z)
        self.assertEqual(parse_zreport(z).totals, {"cash": Decimal("3.50")})

    def test_what_the_mapper_refuses_for_its_shape_the_schema_refuses(self):
        line = {"sku": "A", "quantity": 1, "unit_price": "1.00"}
        broken = {
            "no store": {"store": None},
            "no number": {"number": ""},
            "a bad date": {"business_date": "03/12/2026"},
            "an unknown type": {"type": "layaway"},
            "a price as a list": {"lines": [{**line, "unit_price": [1]}]},
            "a negative price": {"lines": [{**line, "unit_price": "-1"}]},
            "a line without product": {"lines": [{"quantity": 1, "unit_price": "1"}]},
            "too many lines": {"lines": [line] * 501},
            "a payment without method": {"payments": [{"amount": "1"}]},
        }
        for label, change in broken.items():
            with self.subTest(label):
                payload = {**ticket(1), **change}
                self.assertFalse(schema("ticket").is_valid(payload))
                with self.assertRaises(MappingError):
                    parse_ticket(payload)

    def test_a_ticket_whose_payments_miss_its_total_is_refused(self):
        with self.assertRaisesRegex(MappingError, "do not match its total"):
            parse_ticket(ticket(1, total="30.00"))
        self.assertEqual(parse_ticket(ticket(1, total="25.50")).paid, Decimal("25.50"))

    def test_a_return_quantity_is_always_negative(self):
        parsed = parse_ticket(
            ticket(
                1,
                type="return",
                lines=[{"sku": "A", "quantity": 2, "unit_price": "1"}],
                payments=[{"method": "cash", "amount": "-2"}],
            )
        )
        self.assertEqual(parsed.lines[0].quantity, Decimal(-2))

    def test_the_batch_envelope(self):
        self.assertEqual(len(parse_batch({"data": {"tickets": [{}] * 500}})), 500)
        for bad in ({"data": {"tickets": [{}] * 501}}, {"data": {}}, {"data": []}, []):
            with self.subTest(bad=bad), self.assertRaises(MappingError):
                parse_batch(bad)


@tagged("retail", "-at_install", "post_install")
class TestSettlementRules(BaseCase):
    def z(self, count, totals, first="", last="", cash=None):
        return ZReport(
            "S",
            "R",
            date(2026, 12, 3),
            count,
            first,
            last,
            {k: Decimal(v) for k, v in totals.items()},
            None if cash is None else Decimal(cash),
            None,
        )

    def test_gaps_in_the_register_sequence(self):
        self.assertEqual(settlement.missing_numbers(["R1-0001", "R1-0004"]), [2, 3])
        self.assertEqual(
            settlement.missing_numbers(["5", "6"], first="3", last="8"), [3, 4, 7, 8]
        )
        self.assertEqual(settlement.missing_numbers(["10"], expected_count=3), [11, 12])
        self.assertEqual(settlement.format_missing([1, 2, 3, 7, 9, 10]), "1-3, 7, 9-10")
        self.assertIn("(300 in all)", settlement.format_missing(list(range(0, 600, 2))))

    def test_balanced_waiting_and_difference(self):
        z = self.z(2, {"cash": "10.00"}, cash="10.00")
        received = {"cash": Decimal("10.00")}
        self.assertEqual(
            settlement.check(z, ["1", "2"], received, Decimal("10.00")).state,
            settlement.BALANCED,
        )
        waiting = settlement.check(z, ["1"], received, Decimal("10.00"))
        self.assertEqual((waiting.state, waiting.missing), (settlement.WAITING, [2]))
        short = settlement.check(z, ["1", "2"], {"cash": Decimal("9.00")}, Decimal("9"))
        self.assertEqual(short.state, settlement.DIFFERENCE)
        self.assertEqual(short.differences[0].difference, Decimal("-1.00"))
        self.assertEqual(short.cash_difference, Decimal("1.00"))


@tagged("retail", "-at_install", "post_install")
class TestSquare(BaseCase):
    def test_an_order_as_a_ticket(self):
        order = square_order(
            "O1",
            "L1",
            [("V1", 2, 1000), ("V2", 1, 550)],
            [("CASH", 3000)],
            register="R7",
            number="0042",
        )
        order["tenders"][0]["cash_details"] = {
            "buyer_tendered_money": {"amount": 3000, "currency": "USD"},
            "change_back_money": {"amount": 450, "currency": "USD"},
        }
        order["total_money"] = {"amount": 2550, "currency": "USD"}
        raw = square.order_to_ticket(
            order, {"V1": "SKU-1"}, lambda loc, at: "2026-12-03"
        )
        schema("ticket").validate(raw)
        parsed = parse_ticket(raw)
        self.assertEqual(parsed.key.label(), "L1/R7/0042")
        self.assertEqual([ln.sku for ln in parsed.lines], ["SKU-1", "V2"])
        self.assertEqual(parsed.lines[1].unit_price, Decimal("5.50"))
        self.assertEqual(
            (parsed.payments[0].amount, parsed.change),
            (Decimal("30.00"), Decimal("4.50")),
        )
        self.assertEqual(parsed.paid, Decimal("25.50"))
        order["state"] = "CANCELED"
        self.assertEqual(
            square.order_to_ticket(order, {}, lambda *a: "2026-12-03")["type"], "void"
        )
        self.assertEqual(
            square.money({"amount": 1500, "currency": "JPY"}, "m"), Decimal(1500)
        )
        with self.assertRaises(MappingError):
            square.money({"amount": "15.00"}, "m")

    def test_the_signature_scheme(self):
        url = "https://odoo.example/retail/webhook/tok"
        body = b'{"type": "order.updated", "event_id": "e-1"}'
        req = schemes.SignedRequest(
            headers={"x-square-hmacsha256-signature": signature("key", url, body)},
            body=body,
            secrets=["old", "key"],
            url=url,
        )
        verified = schemes.SCHEMES["square"].verify(req)
        self.assertEqual(
            (verified.delivery_id, verified.topic), ("e-1", "order.updated")
        )
        self.assertIn(("square", "Square"), schemes.selection())
        for change in ({"url": url + "x"}, {"body": body + b" "}, {"headers": {}}):
            with self.subTest(change=change), self.assertRaises(schemes.Rejected):
                schemes.SCHEMES["square"].verify(
                    schemes.SignedRequest(**{**req.__dict__, **change})
                )
