import json
from unittest.mock import patch

import requests

from odoo.tests import HttpCase, tagged
from odoo.tools import config, mute_logger

from odoo.addons.retail_integration.lib.standard_webhooks import generate_secret

from ..lib import autocommit
from .common import SECRETS, WebhookCaseMixin, drain_jobs, ping_body, sign

JSON = {"Content-Type": "application/json"}
# 32 bytes, not the key that sealed the secrets
OTHER_KEY = "YW5vdGhlci1rZXktbm90LXRoZS1vbmUtc2VhbGluZyE="


@tagged("retail", "-at_install", "post_install")
class TestReceive(WebhookCaseMixin, HttpCase):
    """Requests through Odoo's real HTTP server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_endpoints()
        cls.Message = cls.env["retail.inbound.message"]

    def _post(self, endpoint, body, headers, token=None):
        token = token or endpoint.sudo().token
        url = f"{self.base_url()}/retail/webhook/{token}"
        return self.opener.post(url, data=body, headers=headers, timeout=12)

    def _messages(self, endpoint):
        return self.Message.search([("endpoint_id", "=", endpoint.id)])

    def _assert_error(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.json()["error"], code)
        self.assertNotIn("Traceback", response.text)

    def test_each_scheme_is_accepted_stored_and_queued(self):
        for scheme, endpoint in self.endpoints.items():
            with self.subTest(scheme=scheme):
                body = ping_body(scheme, delivery_id=f"evt-{scheme}")
                headers = sign(scheme, body, delivery_id=f"d-{scheme}")
                headers["Authorization"] = "Bearer must-not-be-stored"
                response = self._post(endpoint, body, headers)
                self.assertEqual(response.status_code, 202, response.text)
                self.assertEqual(response.json()["status"], "accepted")
                message = self._messages(endpoint)
                self.assertEqual(len(message), 1)
                self.assertEqual(
                    response.headers["X-Correlation-Id"], message.correlation_id
                )
                expected_id = "evt-stripe" if scheme == "stripe" else f"d-{scheme}"
                self.assertRecordValues(
                    message,
                    [
                        {
                            "topic": "ping",
                            "delivery_id": expected_id,
                            "body": body.decode(),
                            "state": "queued",
                            "backend_id": self.backend.id,
                        }
                    ],
                )
                self.assertNotIn("authorization", message.headers)
        # one drain for them all, on the backend's channel
        [job] = drain_jobs(self.env, self.backend)
        self.assertEqual((job.channel, job.state), ("root.retail.hook_shop", "pending"))

    def test_duplicates_are_answered_2xx_and_stored_once(self):
        endpoint = self.endpoints["standard"]
        body = ping_body("standard")
        headers = sign("standard", body, delivery_id="msg-dup")
        statuses = [self._post(endpoint, body, headers).status_code for _i in range(3)]
        self.assertEqual(statuses, [202, 200, 200])
        self.assertEqual(len(self._messages(endpoint)), 1)

    def test_a_delivery_id_reused_with_another_body_is_a_conflict(self):
        endpoint = self.endpoints["shopify"]
        first, second = ping_body("shopify", "a"), ping_body("shopify", "b")
        self._post(endpoint, first, sign("shopify", first, delivery_id="same"))
        response = self._post(
            endpoint, second, sign("shopify", second, delivery_id="same")
        )
        self._assert_error(response, 409, "delivery_id_reused")
        self.assertEqual(self._messages(endpoint).body, first.decode())

    @mute_logger(
        "odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint"
    )
    def test_bad_input_is_refused_and_stores_nothing(self):
        endpoint = self.endpoints["standard"]
        endpoint.max_body_size = 2048
        signed = lambda body: sign("standard", body)  # noqa: E731
        big = b'{"pad": "' + b"x" * 4096 + b'"}'
        cases = [
            (
                "malformed JSON",
                b'{"type": "ping",',
                signed(b'{"type": "ping",'),
                400,
                "invalid_json",
            ),
            (
                "non-UTF-8",
                b'{"type": "\xff"}',
                signed(b'{"type": "\xff"}'),
                400,
                "invalid_encoding",
            ),
            ("deep nesting", b"[" * 50000, signed(b"[" * 50000), 413, "body_too_large"),
            ("empty body", b"", signed(b""), 400, "empty_body"),
            ("oversized", big, signed(big), 413, "body_too_large"),
            (
                "wrong type",
                b"ping",
                {**signed(b"ping"), "Content-Type": "text/plain"},
                415,
                "unsupported_media_type",
            ),
            ("unsigned", ping_body("standard"), JSON, 401, "missing_signature"),
            ("array", b"[1]", signed(b"[1]"), 400, "invalid_json"),
        ]
        for label, body, headers, status, code in cases:
            with self.subTest(case=label):
                self._assert_error(self._post(endpoint, body, headers), status, code)
        self.assertFalse(self._messages(endpoint))
        endpoint.invalidate_recordset(["rejected_count", "last_rejection"])
        self.assertEqual(endpoint.rejected_count, len(cases))
        self.assertEqual(endpoint.last_rejection, "invalid_json")

    def test_a_chunked_body_is_refused_411(self):
        """A chunked request says nothing of its size, and the server would
        read it whole, however large."""
        endpoint = self.endpoints["standard"]
        big = b'{"pad": "' + b"x" * 4096 + b'"}'
        response = self._post(
            endpoint, iter([big[:2000], big[2000:]]), sign("standard", big)
        )
        self._assert_error(response, 411, "length_required")
        self.assertFalse(self._messages(endpoint))

    def test_nested_json_within_the_size_limit(self):
        endpoint = self.endpoints["github"]
        body = b"[" * 20000 + b"]" * 20000
        self._assert_error(
            self._post(endpoint, body, sign("github", body)), 400, "invalid_json"
        )

    @mute_logger(
        "odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint"
    )
    def test_unknown_token_get_and_global_size_cap(self):
        endpoint = self.endpoints["standard"]
        body = ping_body("standard")
        self._assert_error(
            self._post(endpoint, body, sign("standard", body), token="nope"),
            404,
            "unknown_endpoint",
        )
        self._assert_error(
            self._post(endpoint, body, sign("standard", body), token="x" * 500),
            404,
            "unknown_endpoint",
        )
        response = self.url_open(f"/retail/webhook/{endpoint.sudo().token}")
        self._assert_error(response, 405, "method_not_allowed")
        self.assertEqual(response.headers["Allow"], "POST")
        with patch.dict(config.options, {"retail_webhook_max_body_size": "1024"}):
            big = b'{"pad": "' + b"x" * 2048 + b'"}'
            response = self._post(endpoint, big, sign("standard", big))
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self._messages(endpoint))

    @mute_logger(
        "odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint"
    )
    def test_huge_header_values_are_refused_or_cut(self):
        endpoint = self.endpoints["standard"]
        body = ping_body("standard")
        huge = "p" * 60_000
        self._assert_error(
            self._post(endpoint, body, {**JSON, "X-Padding": huge}),
            401,
            "missing_signature",
        )
        self.assertFalse(self._messages(endpoint))
        response = self._post(
            endpoint, body, {**sign("standard", body), "X-Padding": huge}
        )
        self.assertEqual(response.status_code, 202)
        stored = self._messages(endpoint).headers["x-padding"]
        self.assertLessEqual(
            len(stored), 1100, "a signed request cannot fill the table either"
        )

    @mute_logger("odoo.service.server", "werkzeug")
    def test_header_lines_beyond_the_server_limit_never_reach_odoo(self):
        endpoint = self.endpoints["standard"]
        body = ping_body("standard")
        try:
            response = self._post(
                endpoint, body, {**sign("standard", body), "X-Padding": "p" * 100_000}
            )
        except requests.ConnectionError:
            pass  # the server may close the connection before answering 431
        else:
            self.assertEqual(response.status_code, 431)
        self.assertFalse(self._messages(endpoint))

    def test_disarchived_endpoint_is_not_found(self):
        endpoint = self.endpoints["github"]
        endpoint.active = False
        body = ping_body("github")
        with mute_logger(
            "odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint"
        ):
            self._assert_error(
                self._post(endpoint, body, sign("github", body)),
                404,
                "unknown_endpoint",
            )

    def test_an_endpoint_without_secret_refuses_and_tells_the_inbox(self):
        endpoint = self.endpoints["github"].copy({"name": "No secret yet"})
        body = ping_body("github")
        with mute_logger(
            "odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint"
        ):
            for _i in range(2):
                self._assert_error(
                    self._post(endpoint, body, sign("github", body)), 401, "no_secret"
                )
        exception = self.env["retail.sync.exception"].search(
            [("source_model", "=", endpoint._name), ("source_id", "=", endpoint.id)]
        )
        self.assertEqual(len(exception), 1)
        self.assertEqual(
            (exception.kind, exception.occurrence_count), ("configuration", 2)
        )

    @mute_logger(
        "odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint"
    )
    def test_a_secret_the_server_cannot_read_answers_503_in_json(self):
        """The server's key is not the one that sealed the secret (lost, or
        not configured): a JSON 503 the channel retries, an inbox item."""
        endpoint = self.endpoints["shopify"]
        body = ping_body("shopify")
        other_key = {"retail_secret_key": OTHER_KEY, "retail_secret_key_previous": ""}
        with patch.dict(config.options, other_key):
            for _i in range(2):
                self._assert_error(
                    self._post(endpoint, body, sign("shopify", body)),
                    503,
                    "secret_unavailable",
                )
        self.assertFalse(self._messages(endpoint))
        exception = self.env["retail.sync.exception"].search(
            [("source_model", "=", endpoint._name), ("source_id", "=", endpoint.id)]
        )
        self.assertEqual(
            (len(exception), exception.kind, exception.occurrence_count),
            (1, "configuration", 2),
        )
        self.assertIn("503", exception.cause)

    @mute_logger(
        "odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint"
    )
    def test_rate_limit_answers_429_with_retry_after(self):
        endpoint = self.endpoints["woocommerce"]
        endpoint.write({"rate_limit": 0.5, "rate_burst": 2})
        statuses = []
        for n in range(4):
            body = ping_body("woocommerce", delivery_id=f"r{n}")
            response = self._post(endpoint, body, sign("woocommerce", body))
            statuses.append(response.status_code)
        self.assertEqual(statuses, [202, 202, 429, 429])
        self.assertGreaterEqual(int(response.headers["Retry-After"]), 1)
        self.assertEqual(len(self._messages(endpoint)), 2)

    def test_woocommerce_creation_ping_is_answered_and_not_stored(self):
        endpoint = self.endpoints["woocommerce"]
        response = self.url_open(
            f"/retail/webhook/{endpoint.sudo().token}", data={"webhook_id": "42"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ping"})
        self.assertFalse(self._messages(endpoint))

    def test_topics_not_accepted_are_kept_as_ignored(self):
        endpoint = self.endpoints["shopify"]
        endpoint.topics = "orders/create, orders/paid"
        body = ping_body("shopify")
        response = self._post(
            endpoint, body, sign("shopify", body, topic="products/update")
        )
        self.assertEqual(response.json()["status"], "ignored")
        message = self._messages(endpoint)
        self.assertEqual(message.state, "ignored")
        self.assertFalse(drain_jobs(self.env, self.backend))

    def test_a_paused_backend_keeps_messages_until_active(self):
        self.backend.action_pause()
        endpoint = self.endpoints["standard"]
        body = ping_body("standard")
        self.assertEqual(
            self._post(endpoint, body, sign("standard", body)).status_code, 202
        )
        message = self._messages(endpoint)
        self.assertEqual(message.state, "received")
        self.assertFalse(drain_jobs(self.env, self.backend))
        self.backend.action_activate()
        self.assertEqual(message.state, "queued")
        self.assertTrue(drain_jobs(self.env, self.backend))

    def _saved(self):
        """As if another transaction had committed the changes: they are
        written (clearing the look-up cache) and this cursor's cache emptied,
        so that the request reads only what the look-up cache gives."""
        self.env.flush_all()
        self.env.invalidate_all()

    @mute_logger(
        "odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint"
    )
    def test_changes_to_an_endpoint_reach_its_cached_look_up(self):
        endpoint = self.endpoints["standard"]

        def post(n, secret=None):
            body = ping_body("standard", delivery_id=f"cache-{n}")
            return self._post(endpoint, body, sign("standard", body, secret=secret))

        self.assertEqual(post(1).status_code, 202)  # the look-up is now cached
        old_secret = SECRETS["standard"]
        new_secret = generate_secret()
        endpoint.secret = new_secret
        self._saved()
        self._assert_error(post(2, secret=old_secret), 401, "invalid_signature")
        self.assertEqual(post(3, secret=new_secret).status_code, 202)

        self.backend.action_pause()  # a recomputed stored field of the endpoint
        self._saved()
        self.assertEqual(post(4, secret=new_secret).status_code, 202)
        self.assertEqual(self._messages(endpoint)[:1].state, "received")

        endpoint.active = False
        self._saved()
        self._assert_error(post(5, secret=new_secret), 404, "unknown_endpoint")

    @mute_logger(
        "odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint"
    )
    def test_an_endpoint_deleted_with_its_backend_is_not_found(self):
        backend = self.env["retail.backend"].create(
            {"name": "Closed Shop", "code": "closed_shop", "state": "active"}
        )
        endpoint = self.env["retail.webhook.endpoint"].create(
            {"name": "Closed", "backend_id": backend.id, "scheme": "github",
             "secret": SECRETS["github"]}
        )  # fmt: skip
        token = endpoint.sudo().token
        body = ping_body("github")
        self._saved()
        self._assert_error(  # the look-up is cached, nothing stored
            self._post(endpoint, body, sign("github", body, secret="other")),
            401,
            "invalid_signature",
        )
        backend.unlink()  # the endpoint goes by the database's cascade
        self._saved()
        self._assert_error(
            self._post(None, body, sign("github", body), token=token),
            404,
            "unknown_endpoint",
        )

    def test_the_runtime_connection_is_opened_again_after_a_drop(self):
        endpoint = self.endpoints["standard"]
        body = ping_body("standard", delivery_id="drop-1")
        self.assertEqual(
            self._post(endpoint, body, sign("standard", body)).status_code, 202
        )
        [(pid,)] = autocommit.execute(self.env.cr.dbname, "SELECT pg_backend_pid()")
        self.env.cr.execute("SELECT pg_terminate_backend(%s)", [pid])
        body = ping_body("standard", delivery_id="drop-2")
        self.assertEqual(
            self._post(endpoint, body, sign("standard", body)).status_code, 202
        )
        [(new_pid,)] = autocommit.execute(self.env.cr.dbname, "SELECT pg_backend_pid()")
        self.assertNotEqual(new_pid, pid)
        self.assertEqual(len(self._messages(endpoint)), 2)

    def test_answer_is_json(self):
        endpoint = self.endpoints["standard"]
        body = ping_body("standard")
        response = self._post(endpoint, body, sign("standard", body))
        self.assertEqual(
            response.headers["Content-Type"].split(";")[0], "application/json"
        )
        self.assertIn("correlation_id", json.loads(response.text))
