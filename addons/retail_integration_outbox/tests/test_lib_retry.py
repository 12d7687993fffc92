from datetime import datetime

from odoo.tests import BaseCase, tagged

from ..lib import retry


@tagged("retail", "at_install", "-post_install")
class TestRetry(BaseCase):
    def test_default_schedule_waits_then_dies(self):
        waits = [
            retry.retry_delay(retry.DEFAULT_SCHEDULE, n, jitter=0) for n in range(1, 9)
        ]
        self.assertEqual(waits, [5, 300, 1800, 7200, 18000, 36000, 36000, None])

    def test_jitter_spreads_within_bounds(self):
        low = retry.retry_delay((0, 100), 1, jitter=0.2, rand=lambda: 0.0)
        high = retry.retry_delay((0, 100), 1, jitter=0.2, rand=lambda: 0.999999)
        self.assertAlmostEqual(low, 80)
        self.assertAlmostEqual(high, 120, places=3)

    def test_parse_and_format_schedule(self):
        self.assertEqual(retry.parse_schedule("0, 5s, 5m, 2h"), (0, 5, 300, 7200))
        self.assertEqual(retry.format_schedule((0, 5, 300, 7200)), "0s, 5s, 5m, 2h")
        self.assertEqual(
            retry.parse_schedule(retry.format_schedule(retry.DEFAULT_SCHEDULE)),
            retry.DEFAULT_SCHEDULE,
        )
        for bad in ("", "soon", "5, -1"):
            with self.assertRaises(retry.InvalidSchedule):
                retry.parse_schedule(bad)

    def test_status_rules(self):
        self.assertEqual(retry.classify_response(200).kind, retry.DELIVERED)
        self.assertEqual(retry.classify_response(204).kind, retry.DELIVERED)
        self.assertEqual(retry.classify_response(301).kind, retry.RETRY)
        self.assertEqual(retry.classify_response(410).kind, retry.GONE)
        self.assertEqual(retry.classify_response(500).kind, retry.RETRY)
        self.assertEqual(retry.classify_response(400).kind, retry.RETRY)
        throttled = retry.classify_response(429, "30")
        self.assertEqual((throttled.kind, throttled.retry_after), (retry.RETRY, 30))
        self.assertFalse(throttled.counts_for_circuit)
        self.assertTrue(retry.classify_response(503, "7").counts_for_circuit)

    def test_retry_after_forms(self):
        self.assertEqual(retry.parse_retry_after("120", 0), 120)
        now = 1_700_000_000
        self.assertEqual(
            retry.parse_retry_after("Tue, 14 Nov 2023 22:15:00 GMT", now), 100
        )
        self.assertIsNone(retry.parse_retry_after("whenever", now))
        self.assertEqual(retry.parse_retry_after("999999999", 0), retry.MAX_RETRY_AFTER)

    def test_retry_after_takes_ascii_numbers_only(self):
        # "²" is a digit to str.isdigit() and an error to int(); a header
        # arrives decoded as Latin-1, so a receiver can send it.
        self.assertIsNone(retry.parse_retry_after("\xb2", 0))
        self.assertIsNone(retry.parse_retry_after("\u0661\u0662", 0))
        # Longer than int() takes (4300 digits): capped, as any long wait.
        self.assertEqual(retry.parse_retry_after("9" * 5000, 0), retry.MAX_RETRY_AFTER)
        self.assertEqual(retry.parse_retry_after(" 15 ", 0), 15)
        self.assertEqual(retry.parse_retry_after("2.5", 0), 2.5)
        self.assertIsNone(retry.parse_retry_after("1e3", 0))

    def test_due_at_is_never_before_the_time_asked(self):
        now = datetime(2024, 1, 1, 10, 0, 0, 500000)
        self.assertEqual(retry.due_at(now, 15), datetime(2024, 1, 1, 10, 0, 16))
        self.assertEqual(
            retry.due_at(datetime(2024, 1, 1, 10, 0, 0, 900000), 3),
            datetime(2024, 1, 1, 10, 0, 4),
        )
        self.assertEqual(
            retry.due_at(datetime(2024, 1, 1, 10, 0, 0), 2.25),
            datetime(2024, 1, 1, 10, 0, 3),
        )
        exact = datetime(2024, 1, 1, 10, 0, 0)
        self.assertEqual(retry.due_at(exact, 15), datetime(2024, 1, 1, 10, 0, 15))
        for micro in range(0, 1000000, 99991):
            for wait in (0, 0.3, 1, 14.5, 3600):
                now = datetime(2024, 1, 1, 10, 0, 0, micro)
                due = retry.due_at(now, wait)
                self.assertEqual(due.microsecond, 0)
                self.assertGreaterEqual((due - now).total_seconds(), wait)
                self.assertLess((due - now).total_seconds(), wait + 1)

    def test_retry_after_replaces_the_schedule_but_not_the_end(self):
        outcome = retry.classify_response(429, "42")
        self.assertEqual(retry.next_wait(outcome, (0, 5, 300), 1, jitter=0), 42)
        self.assertIsNone(retry.next_wait(outcome, (0, 5, 300), 3, jitter=0))

    def test_circuit(self):
        self.assertFalse(retry.circuit_opens(4, 5))
        self.assertTrue(retry.circuit_opens(5, 5))
        self.assertFalse(retry.circuit_opens(100, 0))
        self.assertEqual(
            [retry.probe_wait(n) for n in (1, 2, 3, 5)], [300, 600, 1200, 3600]
        )
