from datetime import datetime
from decimal import Decimal

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..lib.canonical import Address, Customer, Line, Order
from ..models.retail_importer import UnknownProductError
from .common import RetailCase


def order(name="#1", customer=None, billing=None, shipping_address=None, **vals):
    return Order(
        external_id=name.strip("#"),
        name=name,
        currency=vals.pop("currency", "EUR"),
        total=vals.pop("total", Decimal("10.00")),
        lines=(Line(sku="SKU-A", quantity=Decimal(1), unit_price=Decimal(10)),),
        customer=customer or Customer(),
        billing=billing or Address(),
        shipping_address=shipping_address or Address(),
        **vals,
    )


@tagged("retail", "-at_install", "post_install")
class TestImporter(RetailCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mug, cls.cap, cls.tee = cls.env["product.product"].create(
            [
                {"name": "Mug", "default_code": "SKU-A", "barcode": "BAR-A"},
                {"name": "Cap"},
                {"name": "Tee"},
            ]
        )
        for product, external_id in ((cls.cap, "777"), (cls.tee, "sku:SKU-C")):
            cls.env["retail.external.ref"]._bind(cls.backend, product, external_id)

    @property
    def importer(self):
        return self.env["retail.importer"]

    @property
    def refs(self):
        return self.env["retail.external.ref"]

    def match(self, sku="", product_ref=""):
        line = Line(
            sku=sku,
            quantity=Decimal(1),
            unit_price=Decimal(1),
            name="Thing",
            product_ref=product_ref,
        )
        return self.importer._match_product(self.backend, line)

    def test_product_by_channel_id_then_sku_binding_then_reference_then_barcode(self):
        self.assertEqual(self.match("SKU-A", "777"), self.cap)
        self.assertEqual(self.match("SKU-C"), self.tee)
        self.assertEqual(self.match("SKU-A"), self.mug)
        self.assertEqual(self.match("BAR-A"), self.mug)
        self.assertEqual(self.importer._product_key("SKU-C", None), "sku:SKU-C")
        self.assertEqual(self.importer._product_key("SKU-C", "777"), "777")

    def test_ambiguous_or_unknown_products_are_refused(self):
        self.env["product.product"].create(
            [
                {"name": "One", "default_code": "DUP"},
                {"name": "Two", "default_code": "DUP"},
            ]
        )
        with self.assertRaisesRegex(UserError, "Several products have .* DUP"):
            self.match("DUP")
        with self.assertRaises(UnknownProductError) as unknown:
            self.match("NOPE", "99")
        err = unknown.exception
        self.assertEqual((err.kind, err.key), ("mapping", "unknown-sku:NOPE:99"))
        self.assertIn("No product has the SKU NOPE (channel product 99", str(err))

    def test_customer_by_channel_id_then_email_else_created_and_bound(self):
        billing = Address(name="Ada Lovelace", street="Rue 1", country_code="be")
        first = order(
            customer=Customer(external_id="C1", email="Ada@Example.com"),
            billing=billing,
        )
        ada = self.importer._match_customer(self.backend, first)
        self.assertRecordValues(
            ada,
            [
                {
                    "name": "Ada Lovelace",
                    "street": "Rue 1",
                    "country_id": self.env.ref("base.be").id,
                }
            ],
        )
        self.assertEqual(self.refs._external_id(self.backend, ada), "C1")
        again = order(customer=Customer(external_id="C1", email="other@example.com"))
        self.assertEqual(self.importer._match_customer(self.backend, again), ada)
        by_email = order(customer=Customer(email="ada@example.com"))
        self.assertEqual(self.importer._match_customer(self.backend, by_email), ada)
        guest = self.importer._match_customer(self.backend, order("#7"))
        self.assertEqual(guest.name, "Guest of order #7")
        with self.assertRaisesRegex(UserError, "unknown country code XX"):
            self.importer._address_vals(Address(country_code="XX"), "#8")

    def test_addresses_reused_when_the_same(self):
        ada = self.env["res.partner"].create({"name": "Ada", "street": "Rue 1"})
        home = Address(name="Ada", street="Rue 1")
        self.assertEqual(self.importer._match_address(ada, home, "delivery", "#1"), ada)
        office = Address(name="Ada at work", street="Quai 2")
        delivery = self.importer._match_address(ada, office, "delivery", "#1")
        self.assertRecordValues(
            delivery, [{"type": "delivery", "parent_id": ada.id, "street": "Quai 2"}]
        )
        self.assertEqual(
            self.importer._match_address(ada, office, "delivery", "#2"), delivery
        )

    def test_guards_against_old_news_and_deleted_orders(self):
        partner = self.env["res.partner"].create({"name": "Stamped"})
        self.refs._bind(self.backend, partner, "P1")
        self.assertEqual(
            self.importer._lock_record(self.backend, "res.partner", "P1"), partner
        )
        self.assertFalse(self.importer._lock_record(self.backend, "res.partner", "P2"))
        stamped = self.refs._bind(self.backend, partner, "P9")  # any dated record
        stamped.sync_date = datetime(2025, 3, 2)
        outdated = self.importer._is_outdated
        self.assertTrue(outdated(stamped, datetime(2025, 3, 1), "sync_date"))
        self.assertFalse(outdated(stamped, datetime(2025, 3, 3), "sync_date"))
        self.assertFalse(outdated(stamped, None, "sync_date"))
        self.assertFalse(outdated(stamped.browse(), datetime(2025, 3, 1), "sync_date"))
        self.refs._bind_deleted(self.backend, "res.partner", "P3")
        deleted = self.importer._deleted_before_import
        self.assertTrue(deleted(self.backend, "res.partner", "P3"))
        self.assertFalse(deleted(self.backend, "res.partner", "P3", restore=True))
        self.assertFalse(deleted(self.backend, "res.partner", "P3"), "forgotten")

    def test_total_check_and_pricelist_of_the_currency(self):
        currency = self.env.company.currency_id
        self.importer._check_total(order(total=Decimal("10.004")), 10.0, currency)
        with self.assertRaisesRegex(UserError, "the channel charged 10.50"):
            self.importer._check_total(order(total=Decimal("10.50")), 10.0, currency)
        pricelist = self.env["product.pricelist"].create(
            {"name": "Web", "currency_id": currency.id}
        )
        self.backend.pricelist_id = pricelist
        self.assertEqual(
            self.importer._currency_pricelist(
                self.backend, order(currency=currency.name)
            ),
            pricelist,
        )
        with self.assertRaisesRegex(UserError, "unknown currency XXX"):
            self.importer._currency_pricelist(self.backend, order(currency="XXX"))
