from datetime import datetime, timedelta

from odoo.tests import BaseCase, tagged

from ..lib import circuit, retry
from ..lib.circuit import Circuit

NOW = datetime(2024, 1, 1, 10, 0, 0, 400000)
SECONDS = NOW.replace(microsecond=0)
DELIVERED = retry.classify_response(200)
FAILED = retry.classify_response(503)
GONE = retry.classify_response(410)


def after(state, outcome, probing=False, threshold=3):
    return circuit.after_attempt(
        state, outcome, probing=probing, threshold=threshold, now=NOW
    )


@tagged("retail", "at_install", "-post_install")
class TestCircuit(BaseCase):
    def test_a_success_of_a_healthy_subscription_writes_nothing(self):
        self.assertEqual(after(Circuit(), DELIVERED), circuit.Decision())

    def test_a_success_resets_a_failing_one(self):
        decision = after(Circuit("failing", consecutive_failures=2), DELIVERED)
        self.assertEqual(
            decision.changes,
            {
                "state": "healthy",
                "state_reason": False,
                "consecutive_failures": 0,
                "times_paused": 0,
                "probe_at": False,
                "last_success": SECONDS,
            },
        )
        self.assertFalse(decision.resolve, "a failing one opened no exception")
        self.assertIsNone(decision.report)

    def test_a_successful_probe_closes_the_pause(self):
        paused = Circuit("paused", consecutive_failures=3, times_paused=2)
        decision = after(paused, DELIVERED, probing=True)
        self.assertEqual(decision.changes["state"], "healthy")
        self.assertTrue(decision.resolve)

    def test_gone_stops(self):
        decision = after(Circuit(), GONE)
        self.assertEqual(
            decision.changes, {"state": "stopped", "state_reason": GONE.reason}
        )
        self.assertEqual(decision.report, circuit.GONE)

    def test_failures_below_the_threshold_are_failing(self):
        decision = after(Circuit("failing", consecutive_failures=1), FAILED)
        self.assertEqual(
            decision.changes,
            {
                "consecutive_failures": 2,
                "state_reason": "HTTP 503",
                "state": "failing",
            },
        )
        self.assertIsNone(decision.report)

    def test_the_threshold_opens_the_circuit_and_reports_it(self):
        decision = after(Circuit("failing", consecutive_failures=2), FAILED)
        self.assertEqual(decision.changes["state"], "paused")
        self.assertEqual(decision.changes["times_paused"], 1)
        self.assertEqual(decision.changes["probe_at"], SECONDS + timedelta(seconds=300))
        self.assertEqual(decision.report, circuit.OPENED)

    def test_no_threshold_never_opens(self):
        state = Circuit("failing", consecutive_failures=100)
        decision = after(state, FAILED, threshold=0)
        self.assertEqual(decision.changes["state"], "failing")

    def test_a_failed_probe_pauses_again_for_longer_unreported(self):
        paused = Circuit("paused", consecutive_failures=3, times_paused=1)
        decision = after(paused, FAILED, probing=True)
        self.assertEqual(decision.changes["times_paused"], 2)
        self.assertEqual(decision.changes["probe_at"], SECONDS + timedelta(seconds=600))
        self.assertIsNone(decision.report, "reported when it opened")

    def test_429_holds_without_counting(self):
        throttled = retry.classify_response(429, "30")
        decision = after(Circuit("failing", consecutive_failures=2), throttled)
        self.assertEqual(
            decision.changes, {"hold_until": datetime(2024, 1, 1, 10, 0, 31)}
        )

    def test_a_probe_answered_429_stays_paused_without_a_failure(self):
        paused = Circuit("paused", consecutive_failures=3, times_paused=1)
        throttled = retry.classify_response(429, "1800")
        decision = after(paused, throttled, probing=True)
        self.assertEqual(decision.changes["consecutive_failures"], 3)
        self.assertEqual(decision.changes["state"], "paused")
        self.assertEqual(decision.changes["times_paused"], 2)
        self.assertEqual(
            decision.changes["hold_until"], datetime(2024, 1, 1, 10, 30, 1)
        )

    def test_a_hold_is_only_ever_lengthened(self):
        later = datetime(2024, 1, 1, 11, 0, 0)
        held = Circuit(hold_until=later)
        throttled = retry.classify_response(503, "60")
        self.assertNotIn("hold_until", after(held, throttled).changes)
        longer = retry.classify_response(503, "7200")
        self.assertGreater(after(held, longer).changes["hold_until"], later)
