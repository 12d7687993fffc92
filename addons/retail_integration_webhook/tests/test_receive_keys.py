"""What identifies a message (its topic, delivery id and body) and which
secrets may sign it, tried the way a hostile or careless sender would."""

import json
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import SECRETS, WebhookCaseMixin, ping_body, sign

ENDPOINT_LOGGER = (
    "odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint"
)


@tagged("retail", "-at_install", "post_install")
class TestReceiveKeys(WebhookCaseMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_endpoints()
        cls.Message = cls.env["retail.inbound.message"]
        cls.admin_uid = cls.env.ref("base.user_admin").id

    def _post(self, endpoint, body, headers):
        url = f"{self.base_url()}/retail/webhook/{endpoint.sudo().token}"
        return self.opener.post(url, data=body, headers=headers, timeout=12)

    def _send(self, scheme, body, **sign_args):
        return self._post(self.endpoints[scheme], body, sign(scheme, body, **sign_args))

    def _messages(self, scheme):
        return self.Message.search([("endpoint_id", "=", self.endpoints[scheme].id)])

    def _assert_refused(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.json()["error"], code)

    # Topic and delivery id -------------------------------------------------

    @mute_logger(ENDPOINT_LOGGER)
    def test_unstorable_or_odd_keys_in_the_body_get_a_json_400(self):
        cases = [
            ("standard", '{"type": "ping\\u0000"}', "invalid_topic"),
            ("standard", '{"type": "\\ud800"}', "invalid_topic"),
            ("standard", '{"type": {"nested": 1}}', "invalid_topic"),
            ("standard", '{"type": "' + "t" * 129 + '"}', "invalid_topic"),
            ("stripe", '{"id": "evt\\u0000", "type": "ping"}', "invalid_delivery_id"),
            ("stripe", '{"id": "\\udfff", "type": "ping"}', "invalid_delivery_id"),
            ("stripe", '{"id": ["evt_1"], "type": "ping"}', "invalid_delivery_id"),
            ("stripe", '{"id": "evt_1", "type": "\\u0000"}', "invalid_topic"),
        ]
        for scheme, text, code in cases:
            with self.subTest(scheme=scheme, body=text[:40]):
                response = self._send(scheme, text.encode())
                self._assert_refused(response, 400, code)
        self.assertFalse(self._messages("standard") | self._messages("stripe"))

    @mute_logger(ENDPOINT_LOGGER)
    def test_unstorable_keys_in_headers_get_a_json_400(self):
        for scheme, header in (
            ("shopify", "X-Shopify-Topic"),
            ("woocommerce", "X-WC-Webhook-Delivery-ID"),
            ("github", "X-GitHub-Delivery"),
        ):
            with self.subTest(scheme=scheme):
                body = ping_body(scheme)
                headers = {**sign(scheme, body), header: "bad\x00value"}
                response = self._post(self.endpoints[scheme], body, headers)
                self.assertEqual(response.status_code, 400, response.text)
                self.assertTrue(response.json()["error"].startswith("invalid_"))
                self.assertFalse(self._messages(scheme))

    def test_a_numeric_event_id_is_taken_as_text(self):
        response = self._send("stripe", b'{"id": 4711, "type": "ping"}')
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(self._messages("stripe").delivery_id, "4711")

    @mute_logger(ENDPOINT_LOGGER)
    def test_long_delivery_ids_are_refused_never_cut(self):
        """Two ids sharing their first 255 characters were both cut to the
        same value: the second delivery was answered "duplicate" and lost."""
        body = ping_body("standard")
        prefix = "m" * 300
        for suffix in ("a", "b"):
            response = self._send("standard", body, delivery_id=prefix + suffix)
            self._assert_refused(response, 400, "invalid_delivery_id")
        self.assertIn("255", response.json()["message"])
        longest = "n" * 255
        self.assertEqual(
            self._send("standard", body, delivery_id=longest).status_code, 202
        )
        self.assertEqual(self._messages("standard").delivery_id, longest)

    # Values made storable ---------------------------------------------------

    def test_unstorable_values_elsewhere_are_stored_made_safe(self):
        """A NUL or a lone surrogate in the payload or in a header that is not
        a key: accepted, stored, and handed to the handler made safe."""
        text = '{"type": "ping", "data": {"note\\u0000": "a\\u0000b", "x": "\\ud800"}}'
        body = text.encode()
        headers = {**sign("standard", body), "X-Note": "left\x00right"}
        response = self._post(self.endpoints["standard"], body, headers)
        self.assertEqual(response.status_code, 202, response.text)
        message = self._messages("standard")
        self.assertEqual(message.body, text)  # the JSON text itself stores as is
        self.assertEqual(message.headers["x-note"], "leftright")
        seen = []
        with self.patched_ping(seen):
            message._process()
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(seen, [{"note": "ab", "x": "\ufffd"}])

    def patched_ping(self, seen):
        def handle(records, payload):
            seen.append(payload["data"])
            return "seen"

        return patch.object(type(self.Message), "_handle_ping", handle)

    # Correlation ---------------------------------------------------------------

    def test_an_echoed_correlation_id_continues_the_chain(self):
        body = ping_body("standard")
        echoed = "3f2c9a1e4b7d4c0f9e8a6b5c4d3e2f10"
        headers = {**sign("standard", body), "X-Correlation-Id": echoed}
        response = self._post(self.endpoints["standard"], body, headers)
        self.assertEqual(response.headers["X-Correlation-Id"], echoed)
        message = self._messages("standard")
        self.assertEqual(message.correlation_id, echoed)
        for hostile in ("x", "a b c d e f g h", "z" * 65, "<script>alert(1)</script>"):
            body = json.dumps({"type": "ping", "n": hostile}).encode()
            headers = {**sign("standard", body), "X-Correlation-Id": hostile}
            answer = self._post(self.endpoints["standard"], body, headers)
            self.assertNotEqual(answer.headers["X-Correlation-Id"], hostile)
            self.assertEqual(len(answer.headers["X-Correlation-Id"]), 32)

    def test_the_handler_runs_with_the_message_correlation_id(self):
        body = ping_body("standard")
        self._post(self.endpoints["standard"], body, sign("standard", body))
        message = self._messages("standard")
        seen = []

        def handle(records, payload):
            seen.append(records.env.context.get("retail_correlation_id"))
            return "seen"

        with patch.object(type(self.Message), "_handle_ping", handle):
            message._process()
        self.assertEqual(seen, [message.correlation_id])

    # Duplicate bodies on schemes without a signed timestamp ------------------

    def test_a_body_resent_with_a_new_delivery_id_is_a_duplicate(self):
        for scheme in ("shopify", "woocommerce", "github"):
            with self.subTest(scheme=scheme):
                body = ping_body(scheme, delivery_id=f"replayed-{scheme}")
                first = self._send(scheme, body, delivery_id="first")
                again = self._send(scheme, body, delivery_id="captured-and-renamed")
                self.assertEqual(first.status_code, 202, first.text)
                self.assertEqual(again.status_code, 200, again.text)
                self.assertEqual(again.json()["status"], "duplicate")
                self.assertEqual(self._messages(scheme).delivery_id, "first")

    def test_the_duplicate_window_ends_and_can_be_turned_off(self):
        body = ping_body("shopify", delivery_id="windowed")
        self.assertEqual(self._send("shopify", body).status_code, 202)
        message = self._messages("shopify")
        message.received_at = fields.Datetime.now() - timedelta(hours=25)
        self.env.flush_all()
        self.assertEqual(self._send("shopify", body).status_code, 202)
        self.assertEqual(len(self._messages("shopify")), 2)
        self.endpoints["shopify"].replay_window_hours = 0
        self.env.flush_all()
        self.assertEqual(self._send("shopify", body).status_code, 202)
        self.assertEqual(len(self._messages("shopify")), 3)

    def test_signed_timestamp_schemes_keep_deduplicating_by_id_only(self):
        """A Standard Webhooks sender may legitimately send one body twice as
        two messages; a replay of either is bounded by the signed timestamp."""
        body = ping_body("standard")
        self.assertEqual(self._send("standard", body).status_code, 202)
        self.assertEqual(self._send("standard", body).status_code, 202)
        self.assertEqual(len(self._messages("standard")), 2)

    def test_a_request_replayed_after_retention_is_not_processed_again(self):
        body = ping_body("github", delivery_id="captured")
        headers = sign("github", body, delivery_id="gh-captured")
        self.assertEqual(
            self._post(self.endpoints["github"], body, headers).status_code, 202
        )
        message = self._messages("github")
        message._process()
        message.received_at = fields.Datetime.now() - timedelta(days=31)
        self.Message._gc_processed()
        self.assertFalse(message.exists())
        replay = self._post(self.endpoints["github"], body, headers)
        self.assertEqual(
            (replay.status_code, replay.json()["status"]), (200, "duplicate")
        )
        self.assertFalse(self._messages("github"))

    # The previous secret ---------------------------------------------------

    def _rotate(self, endpoint):
        endpoint.write(
            {"secret": "the-new-secret", "secret_previous": SECRETS[endpoint.scheme]}
        )
        self.env.flush_all()

    def _status_with_old_secret(self, scheme):
        body = json.dumps({"id": self.Message.search_count([]), "n": 1}).encode()
        with mute_logger(ENDPOINT_LOGGER):
            return self._send(scheme, body).status_code

    def test_a_previous_secret_is_accepted_until_its_date(self):
        endpoint = self.endpoints["github"]
        before = fields.Datetime.now()
        self._rotate(endpoint)
        self.assertTrue(endpoint.secret_previous_is_set)
        self.assertGreaterEqual(
            endpoint.previous_secret_until, before + timedelta(hours=24)
        )
        self.assertEqual(self._status_with_old_secret("github"), 202)
        endpoint.previous_secret_until = fields.Datetime.now() - timedelta(seconds=1)
        self.env.flush_all()
        self.assertEqual(self._status_with_old_secret("github"), 401)
        self.assertEqual(endpoint._gc_previous_secrets(), 1)
        self.assertFalse(endpoint.secret_previous_is_set)

    def test_clearing_the_previous_secret_refuses_it_at_once(self):
        endpoint = self.endpoints["woocommerce"]
        clear_ways = {
            "empty write": lambda: endpoint.write({"secret_previous": False}),
            "Clear button": endpoint.action_clear_previous_secret,
            "date emptied": lambda: endpoint.write({"previous_secret_until": False}),
        }
        for way, clear in clear_ways.items():
            with self.subTest(way=way):
                self._rotate(endpoint)
                self.assertEqual(self._status_with_old_secret("woocommerce"), 202)
                clear()
                self.env.flush_all()
                self.assertFalse(endpoint.secret_previous_is_set)
                self.assertFalse(endpoint.previous_secret_until)
                self.assertEqual(self._status_with_old_secret("woocommerce"), 401)

    def test_clearing_over_xmlrpc(self):
        endpoint = self.endpoints["shopify"]
        self._rotate(endpoint)
        self.assertEqual(self._status_with_old_secret("shopify"), 202)
        self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, self.admin_uid, "admin", endpoint._name, "write",
            [[endpoint.id], {"secret_previous": False}],
        )  # fmt: skip
        self.assertEqual(self._status_with_old_secret("shopify"), 401)
        self._rotate(endpoint)
        result = self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, self.admin_uid, "admin", endpoint._name,
            "action_clear_previous_secret", [[endpoint.id]],
        )  # fmt: skip
        self.assertIs(result, True)
        self.assertEqual(self._status_with_old_secret("shopify"), 401)
