from datetime import timedelta

from odoo import fields
from odoo.modules import neutralize
from odoo.tests import HttpCase, tagged

from ..lib import routes
from .common import ApiMixin


@tagged("retail", "-at_install", "post_install")
class TestApiAccess(ApiMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_api()

    def test_missing_malformed_and_unknown_keys_are_refused(self):
        for key in ("", "not-a-key", "rtk_00000000_" + "x" * 43):
            response = self.call("GET", "/stock?skus=SKU-1", key=key)
            self.assertProblem(response, 401, "unauthenticated")
            self.assertIn("Bearer", response.headers["WWW-Authenticate"])
        # the right prefix with another secret
        forged = self.key[:-4] + ("AAAA" if not self.key.endswith("AAAA") else "BBBB")
        self.assertProblem(
            self.call("GET", "/stock?skus=SKU-1", key=forged), 401, "unauthenticated"
        )
        # the X-Api-Key header works too
        response = self.call(
            "GET", "/stock?skus=SKU-1", key="", headers={"X-Api-Key": self.key}
        )
        self.assertEqual(response.status_code, 200)

    def test_key_rotation_and_revocation(self):
        new_key, new_rec = self.env["retail.api.key"]._generate(self.client_rec)
        for key in (self.key, new_key):
            self.assertEqual(
                self.call("GET", "/stock?skus=SKU-1", key=key).status_code, 200
            )
        self.key_rec.action_revoke()
        self.assertProblem(
            self.call("GET", "/stock?skus=SKU-1"), 401, "unauthenticated"
        )
        self.assertEqual(
            self.call("GET", "/stock?skus=SKU-1", key=new_key).status_code, 200
        )
        new_rec.expires_at = fields.Datetime.now() - timedelta(seconds=1)
        self.assertProblem(
            self.call("GET", "/stock?skus=SKU-1", key=new_key), 401, "unauthenticated"
        )
        # only the hash is stored
        self.assertNotIn(new_key, str(new_rec.sudo().read()))

    def test_archived_client_is_refused(self):
        self.client_rec.active = False
        self.assertProblem(
            self.call("GET", "/stock?skus=SKU-1"), 401, "unauthenticated"
        )

    def test_ip_allow_list(self):
        self.client_rec.allowed_networks = "203.0.113.0/24"
        self.assertProblem(self.call("GET", "/stock?skus=SKU-1"), 403, "forbidden_ip")
        self.client_rec.allowed_networks = "203.0.113.0/24\n127.0.0.0/8"
        self.assertEqual(self.call("GET", "/stock?skus=SKU-1").status_code, 200)

    def test_every_route_refuses_a_client_without_its_scope(self):
        bare = self._new_client("No scopes", ())
        key, _rec = self.env["retail.api.key"]._generate(bare)
        for route in routes.ROUTES:
            path = (
                route.path.replace("{order_id}", "X")
                .replace("{reservation_id}", "1")
                .replace("{return_id}", "1")
            )
            body = route.example_request if route.method == "POST" else None
            response = self.call(
                route.method, path, key=key, body=body, headers={"Idempotency-Key": "s"}
            )
            problem = self.assertProblem(response, 403, "insufficient_scope")
            self.assertIn(route.scope, problem["detail"])
            self.assertIn(route.scope, response.headers["WWW-Authenticate"])

    def test_each_scope_opens_its_routes_only(self):
        only_stock = self._new_client("Stock only", ("stock:read",))
        key, _rec = self.env["retail.api.key"]._generate(only_stock)
        self.assertEqual(
            self.call("GET", "/stock?skus=SKU-1", key=key).status_code, 200
        )
        self.assertProblem(
            self.call("GET", "/prices?skus=SKU-1", key=key), 403, "insufficient_scope"
        )

    def test_technical_user_has_its_scopes_rights_only(self):
        user = self.client_rec.technical_user_id
        self.assertFalse(user.active)
        self.assertFalse(user._is_admin())
        self.assertFalse(user.has_group("base.group_system"))
        self.assertFalse(user.has_group("stock.group_stock_manager"))
        self.assertTrue(user.has_group("retail_integration_api.group_api_orders_write"))
        self.assertEqual(user.company_ids, self.client_rec.company_id)
        only_stock = self._new_client(
            "Stock reader", ("stock:read",), backend_id=self.backends["shopify"].id
        )
        reader = only_stock.technical_user_id
        self.assertFalse(reader.has_group("sales_team.group_sale_salesman"))
        self.assertFalse(reader.has_group("stock.group_stock_user"))
        # widening the scopes widens the user, narrowing narrows it
        only_stock.scope_ids |= self.Scope.search([("code", "=", "orders:read")])
        self.assertTrue(reader.has_group("sales_team.group_sale_salesman_all_leads"))
        only_stock.scope_ids = self.Scope.search([("code", "=", "stock:read")])
        self.assertFalse(reader.has_group("sales_team.group_sale_salesman_all_leads"))

    def test_rate_limit(self):
        self.client_rec.write({"rate_limit": 0.01, "rate_burst": 2})
        statuses = [
            self.call("GET", "/stock?skus=SKU-1").status_code for _i in range(3)
        ]
        self.assertEqual(statuses[:2], [200, 200])
        response = self.call("GET", "/stock?skus=SKU-1")
        self.assertProblem(response, 429, "rate_limited")
        self.assertGreaterEqual(int(response.headers["Retry-After"]), 1)

    def test_every_call_is_audited_without_its_body(self):
        Call = self.env["retail.api.call"]
        before = Call.search([], limit=1).id or 0
        ok = self.call(
            "GET", "/stock?skus=SKU-1", headers={"X-Correlation-Id": "corr-1"}
        )
        self.assertEqual(ok.headers["X-Correlation-Id"], "corr-1")
        self.call("GET", "/stock?skus=SKU-1", key="nope")
        self.call("POST", "/reservations", body={"warehouse": "SECRET-BODY"})
        calls = Call.search([("id", ">", before)], order="id")
        self.assertEqual(len(calls), 3)
        first, refused, invalid = calls
        self.assertEqual(first.client_id, self.client_rec)
        self.assertEqual(first.key_prefix, self.key_rec.prefix)
        self.assertEqual(first.route, "/retail/api/v1/stock")
        self.assertEqual((first.status, first.method), (200, "GET"))
        self.assertEqual(first.correlation_id, "corr-1")
        self.assertGreater(first.latency_ms, 0)
        self.assertEqual((refused.status, refused.problem), (401, "unauthenticated"))
        self.assertFalse(refused.client_id)
        self.assertEqual((invalid.status, invalid.problem), (422, "validation_error"))
        self.assertNotIn("SECRET-BODY", str(invalid.read()))
        self.assertEqual(self.client_rec.call_count, 2)
        # retention
        self.env.cr.execute(
            "UPDATE retail_api_call SET create_date = create_date - interval '91 days' "
            "WHERE id = %s",
            (first.id,),
        )
        Call._cron_purge()
        self.assertFalse(first.exists())
        self.assertTrue(refused.exists())

    def test_refused_calls_name_the_key_and_client_they_presented(self):
        """A key used from outside its allow-list, a revoked or expired one, a
        known prefix with another secret: the audit row names them."""
        Call = self.env["retail.api.call"]
        before = Call.search([], limit=1).id or 0
        self.client_rec.allowed_networks = "203.0.113.0/24"
        self.call("GET", "/stock?skus=SKU-1")
        self.client_rec.allowed_networks = False
        forged = self.key[:-4] + ("AAAA" if not self.key.endswith("AAAA") else "BBBB")
        self.call("GET", "/stock?skus=SKU-1", key=forged)
        self.key_rec.action_revoke()
        self.call("GET", "/stock?skus=SKU-1")
        self.call("GET", "/stock?skus=SKU-1", key="rtk_0000abcd_" + "x" * 43)
        calls = Call.search([("id", ">", before)], order="id")
        self.assertEqual(
            [(c.problem, c.key_prefix, c.client_id) for c in calls],
            [
                ("forbidden_ip", self.key_rec.prefix, self.client_rec),
                ("unauthenticated", self.key_rec.prefix, self.client_rec),
                ("unauthenticated", self.key_rec.prefix, self.client_rec),
                ("unauthenticated", "rtk_0000abcd", self.env["retail.api.client"]),
            ],
        )
        self.assertEqual(calls[0].company_id, self.client_rec.company_id)

    def test_a_paused_backend_answers_503(self):
        self.backend.action_pause()
        response = self.call("GET", "/stock?skus=SKU-1")
        self.assertProblem(response, 503, "backend_unavailable")
        self.assertEqual(response.headers["Retry-After"], "300")
        self.backend.action_activate()
        self.assertEqual(self.call("GET", "/stock?skus=SKU-1").status_code, 200)

    def test_ids_and_text_no_record_can_hold_are_refused_cleanly(self):
        """Ids beyond PostgreSQL's integer, NUL characters: a 404 or a 422,
        never a 500."""
        for path in (
            "/reservations/99999999999999999999",
            "/returns/99999999999",
            "/orders/%00",
            "/reservations/1%00",
        ):
            with self.subTest(path=path):
                self.assertProblem(self.call("GET", path), 404, "not_found")
        cursor = routes.encode_cursor(999999999999999)
        self.assertProblem(
            self.call("GET", f"/orders?cursor={cursor}"), 422, "validation_error"
        )
        self.assertProblem(
            self.call("GET", "/stock?skus=%E2%9C%93%00x"), 422, "validation_error"
        )
        # JSON's escape of NUL, as a channel would send it
        nul = (
            '{"warehouse": "WH", "customer": {"name": "A\\u0000"}, '
            '"lines": [{"sku": "SKU-1", "quantity": 1}]}'
        )
        problem = self.assertProblem(
            self.call(
                "POST",
                "/reservations",
                raw=nul,
                headers={"Content-Type": "application/json"},
            ),
            422,
            "validation_error",
        )
        self.assertIn("NUL", problem["detail"])

    def test_unknown_route_and_method(self):
        self.assertProblem(self.call("GET", "/nothing"), 404, "not_found")
        self.assertProblem(self.call("DELETE", "/stock"), 405, "method_not_allowed")

    def test_clients_are_in_the_integration_inventory(self):
        if "retail.integration.inventory" not in self.env:
            self.skipTest("retail_integration_governance is not installed")
        self.client_rec.owner_id = self.env.ref("base.user_admin")
        self.env.flush_all()
        [row] = self.env["retail.integration.inventory"].search(
            [
                ("res_model", "=", "retail.api.client"),
                ("res_id", "=", self.client_rec.id),
            ]
        )
        self.assertEqual(row.kind, "api_client")
        self.assertEqual(row.owner_id, self.env.ref("base.user_admin"))
        self.assertEqual(row.purpose, "Tests")
        for scope in ("orders:write", "stock:read"):
            self.assertIn(scope, row.scopes)

    def test_a_neutralized_copy_answers_no_key(self):
        self.assertEqual(self.call("GET", "/stock?skus=SKU-1").status_code, 200)
        for query in neutralize.get_neutralization_queries(["retail_integration_api"]):
            self.env.cr.execute(query)
        self.env.registry.clear_cache()  # a copy starts with empty caches
        self.env.invalidate_all()
        self.assertEqual(self.key_rec.state, "revoked")
        self.assertEqual(self.call("GET", "/stock?skus=SKU-1").status_code, 401)
