from odoo.tests import BaseCase, tagged

from ..lib.ratelog import RateLimitedLog


@tagged("retail", "-at_install", "post_install")
class TestRateLimitedLog(BaseCase):
    def test_one_line_per_interval_with_a_count_of_the_rest(self):
        now = [100.0]
        log = RateLimitedLog(interval=60, clock=lambda: now[0])
        self.assertEqual(log.should_log("a"), 0)
        self.assertIsNone(log.should_log("a"))
        self.assertIsNone(log.should_log("a"))
        self.assertEqual(log.should_log("b"), 0, "keys are independent")
        now[0] += 61
        self.assertEqual(log.should_log("a"), 2)
        self.assertIsNone(log.should_log("a"))
