from odoo.tests import BaseCase, tagged

from ..lib.registry import Registry


@tagged("retail", "-at_install", "post_install")
class TestRegistry(BaseCase):
    def test_registered_where_defined_and_found_by_key(self):
        carriers = Registry("carrier")

        @carriers.register("parcel")
        class Parcel:
            tracks = True

        @carriers.register("courier")
        class Courier:
            tracks = False

        self.assertIs(carriers["parcel"], Parcel)
        self.assertEqual(Parcel.key, "parcel")
        self.assertIn("courier", carriers)
        self.assertEqual(carriers.keys(), ["parcel", "courier"])
        self.assertEqual(carriers.keys(lambda entry: entry.tracks), ["parcel"])
        self.assertEqual(carriers.values(), [Parcel, Courier])
        self.assertIsNone(carriers.get("pigeon"))
        with self.assertRaisesRegex(KeyError, "No carrier is registered as 'pigeon'"):
            _entry = carriers["pigeon"]

    def test_a_later_registration_replaces_and_unregister_forgets(self):
        carriers = Registry("carrier")

        @carriers.register("parcel")
        class Parcel:
            pass

        @carriers.register("parcel")
        class TrackedParcel(Parcel):
            pass

        self.assertIs(carriers["parcel"], TrackedParcel)
        self.assertEqual(carriers.keys(), ["parcel"])
        carriers.unregister("parcel")
        carriers.unregister("parcel")  # twice: nothing to do
        self.assertNotIn("parcel", carriers)
