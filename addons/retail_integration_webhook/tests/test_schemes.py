import time
from datetime import datetime, timezone

import stripe
from standardwebhooks.webhooks import Webhook

from odoo.tests import BaseCase, tagged

from ..lib import schemes
from .common import SECRETS, ping_body, sign

NOW = int(time.time())
TIMESTAMPED = ("standard", "stripe")


def lower(headers):
    return {k.lower(): v for k, v in headers.items()}


@tagged("retail", "-at_install", "post_install")
class TestSchemes(BaseCase):
    def _verify(self, scheme, headers, body, secrets=None, now=NOW, tolerance=300):
        secrets = secrets or [SECRETS[scheme]]
        request = schemes.SignedRequest(lower(headers), body, secrets, now, tolerance)
        return schemes.SCHEMES[scheme].verify(request)

    def _assert_rejected(self, status, code, *args, **kwargs):
        with self.assertRaises(schemes.Rejected) as caught:
            self._verify(*args, **kwargs)
        self.assertEqual(
            (caught.exception.status, caught.exception.code), (status, code)
        )

    def test_valid_signatures(self):
        for scheme in SECRETS:
            with self.subTest(scheme=scheme):
                body = ping_body(scheme, "evt_9")
                verified = self._verify(
                    scheme, sign(scheme, body, delivery_id="d-9"), body
                )
                if scheme == "stripe":
                    self.assertIsNone(
                        verified.delivery_id, "Stripe's id is in the body"
                    )
                else:
                    self.assertEqual(verified.delivery_id, "d-9")
                self.assertEqual(verified.topic_in_body, scheme in TIMESTAMPED)
                if not verified.topic_in_body:
                    self.assertEqual(verified.topic, "ping")

    def test_wrong_secret_and_tampered_body(self):
        for scheme in SECRETS:
            with self.subTest(scheme=scheme):
                body = ping_body(scheme)
                wrong = sign(scheme, body, secret="whsec_d3Jvbmctc2VjcmV0")
                self._assert_rejected(401, "invalid_signature", scheme, wrong, body)
                headers = sign(scheme, body)
                self._assert_rejected(
                    401, "invalid_signature", scheme, headers, body + b" "
                )

    def test_missing_headers(self):
        for scheme in SECRETS:
            with self.subTest(scheme=scheme):
                body = ping_body(scheme)
                self._assert_rejected(
                    401,
                    "missing_signature",
                    scheme,
                    {"Content-Type": "application/json"},
                    body,
                )

    def test_previous_secret_is_accepted_during_rotation(self):
        for scheme in SECRETS:
            with self.subTest(scheme=scheme):
                body = ping_body(scheme)
                old_signed = sign(scheme, body, secret=SECRETS[scheme])
                new = "whsec_bmV3LXNlY3JldC0xMjM0NTY="
                self._verify(scheme, old_signed, body, secrets=[new, SECRETS[scheme]])
                self._assert_rejected(
                    401, "invalid_signature", scheme, old_signed, body, [new]
                )

    def test_timestamps_are_bounded(self):
        for scheme in TIMESTAMPED:
            with self.subTest(scheme=scheme):
                body = ping_body(scheme)
                stale = sign(scheme, body, timestamp=NOW - 301)
                self._assert_rejected(401, "stale_timestamp", scheme, stale, body)
                future = sign(scheme, body, timestamp=NOW + 301)
                self._assert_rejected(401, "future_timestamp", scheme, future, body)
                self._verify(scheme, sign(scheme, body, timestamp=NOW - 299), body)

    def test_standard_timestamp_must_be_a_number(self):
        body = ping_body("standard")
        headers = sign("standard", body)
        headers["webhook-timestamp"] = "yesterday"
        self._assert_rejected(400, "invalid_timestamp", "standard", headers, body)

    def test_standard_webhooks_reference_implementation(self):
        body = ping_body("standard")
        when = datetime.fromtimestamp(NOW, tz=timezone.utc)
        reference = Webhook(SECRETS["standard"]).sign("msg_ref", when, body.decode())
        headers = {
            "webhook-id": "msg_ref",
            "webhook-timestamp": str(NOW),
            "webhook-signature": f"v1,c2lnbmF0dXJlLW9mLWFub3RoZXIta2V5 {reference}",
        }
        self.assertEqual(self._verify("standard", headers, body).delivery_id, "msg_ref")

    def test_stripe_reference_implementation(self):
        body = ping_body("stripe")
        secret = SECRETS["stripe"]
        signature = stripe.WebhookSignature._compute_signature(
            f"{NOW}.{body.decode()}", secret
        )
        header = f"t={NOW},v1=0000,v1={signature},v0=ignored"
        self._verify("stripe", {"Stripe-Signature": header}, body)
        # and Stripe's own verifier accepts what the tests' signer sends
        ours = sign("stripe", body)["Stripe-Signature"]
        self.assertTrue(
            stripe.WebhookSignature.verify_header(body.decode(), ours, secret, 300)
        )

    def test_stripe_malformed_header(self):
        body = ping_body("stripe")
        for header in ("garbage", f"t={NOW}", "v1=abc", f"t={NOW},t={NOW},v1=abc"):
            with self.subTest(header=header):
                self._assert_rejected(
                    401,
                    "invalid_signature",
                    "stripe",
                    {"Stripe-Signature": header},
                    body,
                )

    def test_github_documented_example(self):
        # The example in GitHub's "Validating webhook deliveries" documentation.
        headers = {
            "X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a"
            "37570b6d7586c22c46f4379c8b043e17",
            "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "X-GitHub-Event": "ping",
        }
        verified = self._verify(
            "github", headers, b"Hello, World!", ["It's a Secret to Everybody"]
        )
        self.assertEqual(verified.delivery_id, "72d3162e-cc78-11e3-81ab-4c9367dc0958")

    def test_shopify_falls_back_to_the_event_id(self):
        body = ping_body("shopify")
        headers = sign("shopify", body)
        del headers["X-Shopify-Webhook-Id"]
        headers["X-Shopify-Event-Id"] = "evt-77"
        self.assertEqual(self._verify("shopify", headers, body).delivery_id, "evt-77")

    def test_woocommerce_ping(self):
        form_type = {"content-type": "application/x-www-form-urlencoded"}
        self.assertTrue(schemes.is_woocommerce_ping(form_type, {"webhook_id": "12"}))
        self.assertFalse(schemes.is_woocommerce_ping(form_type, {"webhook_id": "x"}))
        self.assertFalse(
            schemes.is_woocommerce_ping(form_type, {"webhook_id": "1", "a": "b"})
        )
        self.assertFalse(
            schemes.is_woocommerce_ping(
                {"content-type": "application/json"}, {"webhook_id": "1"}
            )
        )

    def test_parse_json(self):
        self.assertEqual(schemes.parse_json(b'{"a": 1}')[1], {"a": 1})
        for body, code in (
            (b"\xff\xfe{}", "invalid_encoding"),
            (b"{not json", "invalid_json"),
            (b"[1, 2]", "invalid_json"),
            (b'{"a":' * 100000, "invalid_json"),
            (b"[" * 100000 + b"]" * 100000, "invalid_json"),
        ):
            with self.subTest(body=body), self.assertRaises(schemes.Rejected) as caught:
                schemes.parse_json(body)
            self.assertEqual(
                (caught.exception.status, caught.exception.code), (400, code)
            )
