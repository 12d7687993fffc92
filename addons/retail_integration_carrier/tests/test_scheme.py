import json

from easypost.errors import SignatureVerificationError
from easypost.util import validate_webhook

from odoo.tests import BaseCase, tagged

from odoo.addons.retail_integration_webhook.lib import schemes

from ..lib import scheme

SECRET = "sécret-ﬁle"  # NFKD changes it: both sides must normalize alike
BODY = json.dumps(
    {"id": "evt_1", "object": "Event", "description": "tracker.updated", "result": {}}
).encode()


def _request(headers, body=BODY, secrets=(SECRET,)):
    return schemes.SignedRequest(
        headers={k.lower(): v for k, v in headers.items()},
        body=body,
        secrets=list(secrets),
        now=0,
    )


@tagged("retail", "-at_install", "post_install")
class TestEasyPostScheme(BaseCase):
    """The scheme accepts exactly what EasyPost's own library accepts."""

    def test_registered_in_the_webhook_modules_registry(self):
        self.assertIn("easypost", dict(schemes.selection()))
        self.assertFalse(schemes.SCHEMES["easypost"].signs_timestamp)

    def test_our_signature_passes_the_librarys_validate_webhook(self):
        headers = {"X-Hmac-Signature": scheme.signature(SECRET, BODY)}
        self.assertEqual(validate_webhook(BODY, headers, SECRET)["id"], "evt_1")
        verified = schemes.SCHEMES["easypost"].verify(_request(headers))
        self.assertEqual(
            (verified.delivery_id, verified.topic), ("evt_1", "tracker.updated")
        )

    def test_what_the_library_refuses_the_scheme_refuses(self):
        good = scheme.signature(SECRET, BODY)
        cases = {
            "tampered body": (
                {"X-Hmac-Signature": good},
                BODY.replace(b"evt_1", b"evt_2"),
            ),
            "other secret": (
                {"X-Hmac-Signature": scheme.signature("other", BODY)},
                BODY,
            ),
            "no prefix": ({"X-Hmac-Signature": good.split("=", 1)[1]}, BODY),
            "upper-case hex": ({"X-Hmac-Signature": good.upper()}, BODY),
            "empty": ({"X-Hmac-Signature": ""}, BODY),
            "no header": ({}, BODY),
        }
        for label, (headers, body) in cases.items():
            with self.subTest(label):
                with self.assertRaises(SignatureVerificationError):
                    validate_webhook(body, headers, SECRET)
                with self.assertRaises(schemes.Rejected) as caught:
                    schemes.SCHEMES["easypost"].verify(_request(headers, body))
                self.assertEqual(caught.exception.status, 401)

    def test_the_previous_secret_during_a_rotation(self):
        headers = {"X-Hmac-Signature": scheme.signature("old-secret", BODY)}
        verified = schemes.SCHEMES["easypost"].verify(
            _request(headers, secrets=(SECRET, "old-secret"))
        )
        self.assertEqual(verified.delivery_id, "evt_1")

    def test_hostile_bodies_give_no_keys_but_no_crash(self):
        for body in (b"[1, 2]", b"\xff\xfe", b'{"id": 5, "description": ["x"]}'):
            with self.subTest(body=body):
                headers = {"X-Hmac-Signature": scheme.signature(SECRET, body)}
                verified = schemes.SCHEMES["easypost"].verify(_request(headers, body))
                self.assertEqual((verified.delivery_id, verified.topic), (None, None))
