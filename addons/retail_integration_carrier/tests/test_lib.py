from datetime import datetime, timedelta

from odoo.tests import BaseCase, tagged

from ..lib import tracking
from ..lib.shipping import Rate, TrackingEvent, pick_rate

T0 = datetime(2025, 3, 1, 10, 0, 0)


@tagged("retail", "-at_install", "post_install")
class TestTrackingRules(BaseCase):
    def test_a_newer_report_wins(self):
        self.assertTrue(
            tracking.supersedes(
                "pre_transit", T0, "in_transit", T0 + timedelta(hours=1)
            )
        )
        self.assertTrue(tracking.supersedes(None, None, "in_transit", T0))

    def test_an_older_report_never_wins(self):
        self.assertFalse(
            tracking.supersedes("out_for_delivery", T0, "in_transit", T0 - timedelta(1))
        )
        self.assertFalse(tracking.supersedes("failure", T0, "in_transit", None))

    def test_delivered_is_never_undone_by_a_status_on_the_way(self):
        later = T0 + timedelta(days=2)
        for status in ("in_transit", "out_for_delivery", "pre_transit", "unknown"):
            with self.subTest(status):
                self.assertFalse(tracking.supersedes("delivered", T0, status, later))
        # A later return to sender does change it.
        self.assertTrue(tracking.supersedes("delivered", T0, "return_to_sender", later))

    def test_same_moment_goes_by_rank(self):
        self.assertTrue(tracking.supersedes("in_transit", T0, "delivered", T0))
        self.assertFalse(tracking.supersedes("delivered", T0, "in_transit", T0))
        self.assertFalse(tracking.supersedes("delivered", T0, "delivered", T0))

    def test_unknown_statuses_are_normalized(self):
        self.assertEqual(tracking.normalize(" Delivered "), "delivered")
        self.assertEqual(tracking.normalize("teleported"), "unknown")
        self.assertEqual(tracking.normalize(None), "unknown")

    def test_latest_event_and_event_keys(self):
        events = [
            TrackingEvent("in_transit", T0, "Departed", "Memphis"),
            TrackingEvent("delivered", T0 + timedelta(hours=5), "Delivered"),
            TrackingEvent("unknown", T0 + timedelta(days=9)),
        ]
        self.assertEqual(tracking.latest(events).status, "delivered")
        self.assertIsNone(tracking.latest([]))
        keys = {tracking.event_key(e) for e in events + events}
        self.assertEqual(len(keys), 3)

    def test_a_picking_status_of_several_packages(self):
        self.assertEqual(tracking.aggregate(["delivered", "in_transit"]), "in_transit")
        self.assertEqual(tracking.aggregate(["delivered", "delivered"]), "delivered")
        self.assertEqual(tracking.aggregate(["delivered", "failure"]), "failure")
        self.assertEqual(
            tracking.aggregate(["out_for_delivery", "pre_transit"]), "pre_transit"
        )
        self.assertFalse(tracking.aggregate([False]))

    def test_backoff_grows_and_honours_retry_after(self):
        delays = [tracking.backoff(n) for n in range(1, 8)]
        self.assertEqual(delays, sorted(delays))
        self.assertEqual(delays[0], 10)
        self.assertEqual(delays[-1], 1800)
        self.assertEqual(tracking.backoff(1, retry_after=90), 90)

    def test_every_reported_status_has_an_event_type(self):
        self.assertEqual(
            set(tracking.EVENT_OF_STATUS.values()), set(tracking.EVENT_TYPES)
        )


@tagged("retail", "-at_install", "post_install")
class TestPickRate(BaseCase):
    rates = [
        Rate("USPS", "Priority", 7.58, "USD"),
        Rate("USPS", "Express", 26.8, "USD"),
        Rate("UPS", "Ground", 9.43, "USD"),
    ]

    def test_the_service_asked_for(self):
        self.assertEqual(pick_rate(self.rates, "usps", "express").amount, 26.8)
        self.assertEqual(pick_rate(self.rates, "UPS").service, "Ground")

    def test_the_cheapest_without_a_service_and_none_when_missing(self):
        self.assertEqual(pick_rate(self.rates).amount, 7.58)
        self.assertIsNone(pick_rate(self.rates, "FedEx"))
        self.assertIsNone(pick_rate([], ""))
