import datetime

from odoo.tests import BaseCase, tagged

from ..lib import payloads, routing, transports, versions
from ..lib.versions import Version


@tagged("retail", "at_install", "-post_install")
class TestRouting(BaseCase):
    def test_route_scopes(self):
        self.assertIsNone(routing.COMPANY.route_scope(7))
        self.assertEqual(routing.PRICELIST.route_scope(3), ("product.pricelist", 3))
        self.assertEqual(
            routing.PRICELIST.route_scope(0),
            ("product.pricelist", 0),
            "no pricelist: no price",
        )
        self.assertEqual(routing.WAREHOUSE.route_scope(2), ("stock.warehouse", 2))
        self.assertIsNone(routing.WAREHOUSE.route_scope(None), "no warehouse: all")

    def test_backend_values(self):
        class Backend(dict):
            def _outbox_pricelist_ids(self):
                return [4, 3, 4]

        class Record:
            ids = [9]

        backend = Backend(pricelist_id=Record(), warehouse_id=Record())
        self.assertEqual(routing.PRICELIST.backend_values(backend), [3, 4])
        self.assertEqual(routing.WAREHOUSE.backend_values(backend), [9])
        self.assertEqual(routing.COMPANY.backend_values(backend), [0])
        self.assertEqual(routing.PRICELIST.backend_values(Backend()), [0], "none")
        Record.ids = []
        self.assertEqual(routing.WAREHOUSE.backend_values(backend), [0])

    def test_matches(self):
        self.assertTrue(routing.matches(None, ("stock.warehouse", 1)))
        self.assertTrue(routing.matches(None, None))
        self.assertTrue(routing.matches(("stock.warehouse", 1), ("stock.warehouse", 1)))
        self.assertFalse(
            routing.matches(("stock.warehouse", 1), ("stock.warehouse", 2))
        )
        self.assertFalse(routing.matches(("product.pricelist", 0), None))

    def test_register(self):
        rule = routing.Routing("test_lot", "Test", "stock.lot", "lot_id")
        routing.register(rule)
        self.addCleanup(routing.unregister, "test_lot")
        self.assertIn(("test_lot", "Test"), routing.selection())
        self.assertIn("lot_id", routing.backend_fields())
        routing.unregister("test_lot")
        self.assertNotIn("lot_id", routing.backend_fields())


@tagged("retail", "at_install", "-post_install")
class TestVersions(BaseCase):
    def test_default_is_the_newest_stable(self):
        self.assertEqual(versions.default_version({1: Version()}), 1)
        preview = {1: Version(), 2: Version(), 3: Version(stable=False)}
        self.assertEqual(versions.default_version(preview), 2)
        self.assertEqual(versions.default_version({2: Version(stable=False)}), 2)

    def test_pick_the_newest_not_above(self):
        listed = {1: Version(), 3: Version()}
        self.assertEqual(versions.pick(listed, 1), 1)
        self.assertEqual(versions.pick(listed, 2), 1)
        self.assertEqual(versions.pick(listed, 3), 3)
        self.assertEqual(versions.pick(listed, 9), 3)
        self.assertEqual(versions.pick({2: Version()}, 1), 2, "else the oldest")

    def test_headers(self):
        self.assertEqual(versions.headers(Version()), {})
        deprecated = Version(
            deprecated_on=datetime.date(2027, 1, 1),
            sunset_on=datetime.date(2027, 7, 1),
        )
        self.assertEqual(
            versions.headers(deprecated),
            {"Deprecation": "@1798761600", "Sunset": "Thu, 01 Jul 2027 00:00:00 GMT"},
        )


@tagged("retail", "at_install", "-post_install")
class TestPayloadsAndTransports(BaseCase):
    def test_builders_by_type_and_version(self):
        payloads.register("test.thing")(lambda record, scope: {"v": 1, "r": record})
        payloads.register("test.thing", 2)(lambda record, scope: {"v": 2})
        self.addCleanup(payloads.unregister, "test.thing")
        self.addCleanup(payloads.unregister, "test.thing", 2)
        self.assertEqual(payloads.build("test.thing", 1, "rec"), {"v": 1, "r": "rec"})
        self.assertEqual(payloads.build("test.thing", 2, "rec"), {"v": 2})
        with self.assertRaisesRegex(payloads.UnknownBuilder, "test.thing version 3"):
            payloads.build("test.thing", 3, "rec")

    def test_transports_by_mode(self):
        @transports.register("test_pigeon")
        class Pigeon(transports.Transport):
            def deliver(self, subscription, deliveries, session, secrets):
                yield from ()

        self.addCleanup(transports.unregister, "test_pigeon")
        self.assertIsInstance(transports.get("test_pigeon"), Pigeon)
        self.assertEqual(Pigeon.key, "test_pigeon")
        self.assertTrue(transports.get("webhook").signed)
        self.assertIsNone(transports.get("no_such_mode"))
        self.assertEqual(transports.DEFAULT.secrets(None), [""])
        self.assertIsNone(transports.DEFAULT.refusal(None, [""]))
