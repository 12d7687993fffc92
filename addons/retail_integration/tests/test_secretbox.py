from odoo.tests import BaseCase, tagged

from ..lib.secretbox import (
    SecretBox,
    SecretDecryptError,
    SecretKeyError,
    generate_key,
)


@tagged("retail", "-at_install", "post_install")
class TestSecretBox(BaseCase):
    def setUp(self):
        super().setUp()
        self.key = generate_key()
        self.box = SecretBox(self.key)

    def test_round_trip(self):
        token = self.box.seal("shpat_1234", "retail.backend.api_secret")
        self.assertNotIn("shpat_1234", token)
        self.assertEqual(
            self.box.open(token, "retail.backend.api_secret"), "shpat_1234"
        )
        self.assertTrue(self.box.is_current(token))

    def test_each_seal_differs(self):
        one = self.box.seal("same", "ctx")
        two = self.box.seal("same", "ctx")
        self.assertNotEqual(one, two)

    def test_context_is_authenticated(self):
        token = self.box.seal("secret", "retail.backend.api_key")
        with self.assertRaises(SecretDecryptError):
            self.box.open(token, "retail.backend.api_secret")

    def test_tampered_token_fails(self):
        token = self.box.seal("secret", "ctx")
        prefix, kid, body = token.split("$")
        flipped = body[:20] + ("A" if body[20] != "A" else "B") + body[21:]
        with self.assertRaises(SecretDecryptError):
            self.box.open(f"{prefix}${kid}${flipped}", "ctx")
        with self.assertRaises(SecretDecryptError):
            self.box.open("not a token", "ctx")

    def test_unknown_key_fails(self):
        token = SecretBox(generate_key()).seal("secret", "ctx")
        with self.assertRaisesRegex(SecretDecryptError, "not configured"):
            self.box.open(token, "ctx")

    def test_previous_key_opens_until_rotated(self):
        new_box = SecretBox(generate_key(), previous_keys=[self.key])
        token = self.box.seal("secret", "ctx")
        self.assertEqual(new_box.open(token, "ctx"), "secret")
        self.assertFalse(new_box.is_current(token))
        self.assertTrue(new_box.is_current(new_box.seal("secret", "ctx")))

    def test_bad_keys_name_the_setting(self):
        with self.assertRaisesRegex(SecretKeyError, "retail_secret_key is not set"):
            SecretBox("")
        with self.assertRaisesRegex(SecretKeyError, "retail_secret_key must be 32"):
            SecretBox("too-short")
        with self.assertRaisesRegex(SecretKeyError, "retail_secret_key_previous"):
            SecretBox(self.key, previous_keys=["!!"])
