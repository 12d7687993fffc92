from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from odoo.tests import BaseCase, tagged

from ..lib import standard_webhooks

BODY = b'{"type":"order.created","data":{"id":1001,"note":"caf\xc3\xa9"}}'


@tagged("retail", "-at_install", "post_install")
class TestStandardWebhooks(BaseCase):
    """Checked against the Standard Webhooks reference implementation."""

    def setUp(self):
        super().setUp()
        self.secret = standard_webhooks.generate_secret()
        self.timestamp = int(datetime.now(timezone.utc).timestamp())

    def _headers(self, signature):
        return {
            "webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
            "webhook-timestamp": str(self.timestamp),
            "webhook-signature": signature,
        }

    def test_reference_library_verifies_our_signature(self):
        signature = standard_webhooks.sign(
            self.secret, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", self.timestamp, BODY
        )
        Webhook(self.secret).verify(BODY, self._headers(signature))
        with self.assertRaises(WebhookVerificationError):
            Webhook(standard_webhooks.generate_secret()).verify(
                BODY, self._headers(signature)
            )

    def test_reference_library_verifies_our_headers(self):
        headers = standard_webhooks.headers(self.secret, "msg_3", self.timestamp, BODY)
        self.assertEqual(
            (headers["webhook-id"], headers["webhook-timestamp"]),
            ("msg_3", str(self.timestamp)),
        )
        Webhook(self.secret).verify(BODY, headers)

    def test_one_signature_per_secret_each_verifies(self):
        old = standard_webhooks.generate_secret()
        headers = standard_webhooks.headers(
            self.secret, "msg_4", self.timestamp, BODY, old
        )
        self.assertEqual(len(headers["webhook-signature"].split()), 2)
        Webhook(self.secret).verify(BODY, headers)
        Webhook(old).verify(BODY, headers)
        with self.assertRaises(WebhookVerificationError):
            Webhook(standard_webhooks.generate_secret()).verify(BODY, headers)

    def test_we_verify_the_reference_signature(self):
        when = datetime.fromtimestamp(self.timestamp, tz=timezone.utc)
        reference = Webhook(self.secret).sign("msg_1", when, BODY.decode())
        self.assertTrue(
            standard_webhooks.verify(
                [self.secret], "msg_1", self.timestamp, BODY, reference
            )
        )
        self.assertFalse(
            standard_webhooks.verify(
                [self.secret], "msg_2", self.timestamp, BODY, reference
            )
        )
        self.assertFalse(
            standard_webhooks.verify(
                [self.secret], "msg_1", self.timestamp, BODY + b" ", reference
            )
        )

    def test_any_of_several_signatures_and_secrets(self):
        old, new = standard_webhooks.generate_secret(), self.secret
        header = " ".join(
            [
                "v1,bm90IGEgc2lnbmF0dXJl",
                standard_webhooks.sign(old, "msg_1", self.timestamp, BODY),
            ]
        )
        self.assertTrue(
            standard_webhooks.verify([new, old], "msg_1", self.timestamp, BODY, header)
        )
        self.assertFalse(
            standard_webhooks.verify([new], "msg_1", self.timestamp, BODY, header)
        )

    def test_secret_without_prefix_and_invalid_secrets(self):
        bare = self.secret.removeprefix("whsec_")
        self.assertEqual(
            standard_webhooks.sign(bare, "m", 1, b""),
            standard_webhooks.sign(self.secret, "m", 1, b""),
        )
        with self.assertRaises(standard_webhooks.InvalidSecret):
            standard_webhooks.secret_bytes("whsec_")
