from datetime import date

from odoo.tests import BaseCase, tagged

from ..lib import keys, problems, routes


@tagged("retail", "-at_install", "post_install")
class TestApiLib(BaseCase):
    def test_keys_are_random_hashed_and_prefixed(self):
        key, prefix, digest = keys.generate()
        other, other_prefix, _other_digest = keys.generate()
        self.assertNotEqual(key, other)
        self.assertNotEqual(prefix, other_prefix)
        self.assertTrue(key.startswith(prefix + "_"))
        self.assertEqual(keys.prefix_of(key), prefix)
        self.assertNotIn(key, digest)
        self.assertTrue(keys.matches(key, digest))
        self.assertFalse(keys.matches(other, digest))
        self.assertIsNone(keys.prefix_of("rtk_zz_short"))
        self.assertEqual(keys.prefix_of(keys.DEMO_KEY), "rtk_00000000")

    def test_key_from_headers(self):
        self.assertEqual(keys.from_headers({"authorization": "Bearer abc"}), "abc")
        self.assertEqual(keys.from_headers({"x-api-key": " abc "}), "abc")
        self.assertEqual(keys.from_headers({"authorization": "Basic abc"}), "")

    def test_cursor_round_trip_and_refusal(self):
        self.assertEqual(routes.decode_cursor(routes.encode_cursor(42)), 42)
        self.assertIsNone(routes.decode_cursor(None))
        for bad in ("!!", "e30", routes.encode_cursor(-1)[:-1] + "x"):
            with self.assertRaises(problems.Problem) as caught:
                routes.decode_cursor(bad)
            self.assertEqual(caught.exception.code, "validation_error")

    def test_etag_comparison(self):
        tag = routes.etag(b"{}")
        self.assertTrue(routes.etag_matches(tag, tag))
        self.assertTrue(routes.etag_matches(f'"x", W/{tag}', tag))
        self.assertTrue(routes.etag_matches("*", tag))
        self.assertFalse(routes.etag_matches('"x"', tag))
        self.assertFalse(routes.etag_matches(None, tag))

    def test_deprecation_and_sunset_headers(self):
        route = routes.Route(
            "GET",
            "/old",
            "stock",
            "Old",
            "stock:read",
            "stock",
            deprecated=date(2026, 1, 1),
            sunset=date(2026, 7, 1),
            successor="/stock",
        )
        self.assertEqual(
            route.deprecation_headers(),
            {
                "Deprecation": "@1767225600",
                "Sunset": "Wed, 01 Jul 2026 00:00:00 GMT",
                "Link": f'<{routes.PREFIX}/stock>; rel="successor-version"',
            },
        )
        live = routes.Route("GET", "/x", "stock", "X", None, "stock")
        self.assertEqual(live.deprecation_headers(), {})

    def test_problem_body(self):
        problem = problems.Problem("rate_limited", headers={"Retry-After": "2"})
        body = problem.body("/retail/api/v1/stock", "c1")
        self.assertEqual(body["type"], "/retail/api/v1/docs#problem-rate_limited")
        self.assertEqual((body["status"], body["correlation_id"]), (429, "c1"))
        self.assertEqual(problem.headers, {"Retry-After": "2"})

    def test_match(self):
        route, params = routes.match("GET", "/orders/A-1")
        self.assertEqual((route.handler, params), ("order_status", {"order_id": "A-1"}))
        with self.assertRaises(problems.Problem) as caught:
            routes.match("DELETE", "/orders/A-1")
        self.assertEqual(caught.exception.code, "method_not_allowed")
        with self.assertRaises(problems.Problem) as caught:
            routes.match("GET", "/nothing")
        self.assertEqual(caught.exception.code, "not_found")
