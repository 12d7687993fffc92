from datetime import date
from decimal import Decimal

import jsonschema

from odoo.tests import BaseCase, tagged

from odoo.addons.retail_integration.lib.parsing import MappingError
from odoo.addons.retail_integration_webhook.lib import schemes

from ..lib import settlement, square, square_catalog
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


@tagged("retail", "-at_install", "post_install")
class TestSquareCatalogObjects(BaseCase):
    product = square_catalog.CatalogProduct(
        product_id=7,
        name="Scarf",
        sku="POS-1",
        price=Decimal("10.005"),
        currency="USD",
        location_prices={"LLILLE": (Decimal("9"), "USD")},
        locations=("LPARIS", "LLILLE"),
    )

    def test_money_in_the_smallest_unit(self):
        self.assertEqual(
            square_catalog.money(Decimal("10.005"), "USD"),
            {"amount": 1001, "currency": "USD"},
        )
        self.assertEqual(square_catalog.money(1500, "JPY")["amount"], 1500)

    def test_a_new_item_with_its_variation(self):
        item = square_catalog.new_item(self.product)
        self.assertEqual(item["id"], "#item-7")
        [variation] = item["item_data"]["variations"]
        self.assertEqual(variation["id"], "#variation-7")
        data = variation["item_variation_data"]
        self.assertEqual(data["item_id"], "#item-7")
        self.assertEqual(data["sku"], "POS-1")
        self.assertEqual(
            data["location_overrides"],
            [
                {
                    "location_id": "LLILLE",
                    "pricing_type": "FIXED_PRICING",
                    "price_money": {"amount": 900, "currency": "USD"},
                }
            ],
        )
        self.assertEqual(item["present_at_location_ids"], ["LLILLE", "LPARIS"])

    def test_an_update_keeps_what_is_not_ours(self):
        variation = {
            "type": "ITEM_VARIATION",
            "id": "V1",
            "version": 5,
            "item_variation_data": {
                "item_id": "I1",
                "name": "Regular",
                "sku": "OLD",
                "location_overrides": [
                    {"location_id": "LPARIS", "price_money": {"amount": 1}},
                    {"location_id": "ELSEWHERE", "price_money": {"amount": 2}},
                    {"location_id": "LLILLE", "track_inventory": True},
                ],
            },
        }
        other = {"type": "ITEM_VARIATION", "id": "V2", "version": 5}
        item = {
            "type": "ITEM",
            "id": "I1",
            "version": 5,
            "present_at_all_locations": False,
            "present_at_location_ids": ["LPARIS", "ELSEWHERE"],
            "item_data": {"name": "Old", "variations": [variation, other]},
        }
        [saved] = square_catalog.updated_objects(self.product, variation, item)
        self.assertEqual(saved["version"], 5)
        self.assertEqual(
            saved["present_at_location_ids"],
            ["ELSEWHERE", "LLILLE", "LPARIS"],
            "Lille, a store added since, sells it too",
        )
        self.assertEqual(saved["item_data"]["name"], "Scarf")
        new, kept = saved["item_data"]["variations"]
        self.assertEqual(kept, other)
        data = new["item_variation_data"]
        self.assertEqual(
            (new["version"], data["name"], data["sku"]), (5, "Regular", "POS-1")
        )
        self.assertEqual(
            data["location_overrides"],
            [
                {"location_id": "ELSEWHERE", "price_money": {"amount": 2}},
                {
                    "location_id": "LLILLE",
                    "track_inventory": True,
                    "pricing_type": "FIXED_PRICING",
                    "price_money": {"amount": 900, "currency": "USD"},
                },
            ],
            "Paris's own price dropped: it sells at the base price",
        )
        self.assertEqual(variation["item_variation_data"]["sku"], "OLD", "not changed")
        [alone] = square_catalog.updated_objects(self.product, variation)
        self.assertEqual(alone["id"], "V1")

    def test_malformed_answers(self):
        with self.assertRaisesRegex(MappingError, "not a list"):
            square_catalog.objects_of({"objects": {"id": "x"}}, "objects", "Search")
        with self.assertRaisesRegex(MappingError, "not a JSON object"):
            square_catalog.objects_of([], "objects", "Search")
        self.assertEqual(square_catalog.objects_of({}, "objects", "Search"), [])
        with self.assertRaisesRegex(MappingError, "id_mappings"):
            square_catalog.id_mappings({"id_mappings": [{"client_object_id": "#a"}]})
        self.assertEqual(
            square_catalog.id_mappings(
                {"id_mappings": [{"client_object_id": "#a", "object_id": "B"}]}
            ),
            {"#a": "B"},
        )

    def test_the_idempotency_key_follows_the_request(self):
        key = square_catalog.idempotency_key
        self.assertEqual(key("odoo-1", [[{"a": 1}]]), key("odoo-1", [[{"a": 1}]]))
        self.assertNotEqual(key("odoo-1", [[{"a": 1}]]), key("odoo-1", [[{"a": 2}]]))
        self.assertLessEqual(len(key("x" * 200, [])), 128)
        # A creation is keyed by what it creates, whatever its prices.
        item = square_catalog.new_item(self.product)
        cheaper = square_catalog.new_item(
            square_catalog.CatalogProduct(7, "Scarf", "POS-1", Decimal(1), "USD")
        )
        self.assertEqual(
            square_catalog.created([[item]]),
            [[("#item-7", None), ("#variation-7", "POS-1")]],
        )
        self.assertEqual(
            key("p", square_catalog.created([[item]])),
            key("p", square_catalog.created([[cheaper]])),
        )
