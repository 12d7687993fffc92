import io
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import config

from ..lib.secretbox import generate_key
from .common import TEST_KEY, RetailCase, secret_key_patcher

PLAINTEXT = "shpat_PLAINTEXT_must_never_be_stored_7f3a"


@tagged("retail", "-at_install", "post_install")
class TestSecrets(RetailCase):
    def _dump(self, table):
        buf = io.StringIO()
        self.env.cr.copy_expert(f"COPY {table} TO STDOUT", buf)
        return buf.getvalue()

    def test_secret_is_write_only_and_readable_by_code(self):
        self.backend.api_secret = PLAINTEXT
        self.backend.invalidate_recordset()
        self.assertFalse(self.backend.api_secret, "never displayed again")
        self.assertTrue(self.backend.api_secret_is_set)
        self.assertFalse(self.backend.api_key_is_set)
        self.assertEqual(self.backend._get_secret("api_secret"), PLAINTEXT)
        self.assertEqual(self.backend._get_secret("api_key"), "")

    def test_dump_of_the_tables_holds_no_plaintext(self):
        self.backend.write({"api_key": "ck_" + PLAINTEXT, "api_secret": PLAINTEXT})
        self.env.flush_all()
        for table in ("retail_backend", "mail_message", "mail_tracking_value"):
            self.assertNotIn(PLAINTEXT, self._dump(table), table)
        self.assertIn(
            self.backend.sudo().api_secret_sealed, self._dump("retail_backend")
        )

    def test_empty_value_keeps_the_saved_secret(self):
        self.backend.api_secret = PLAINTEXT
        self.backend.write({"api_secret": False, "name": "Renamed"})
        self.assertEqual(self.backend._get_secret("api_secret"), PLAINTEXT)
        self.backend.action_clear_credentials()
        self.assertFalse(self.backend.api_secret_is_set)
        self.assertEqual(self.backend._get_secret("api_secret"), "")

    def test_missing_key_names_the_setting(self):
        with (
            patch.dict(config.options, {"retail_secret_key": ""}),
            patch.dict("os.environ", {"RETAIL_SECRET_KEY": ""}),
        ):
            with self.assertRaisesRegex(UserError, "retail_secret_key"):
                self.backend.api_secret = PLAINTEXT

    def test_key_from_environment(self):
        with (
            patch.dict(config.options, {"retail_secret_key": ""}),
            patch.dict("os.environ", {"RETAIL_SECRET_KEY": TEST_KEY}),
        ):
            self.backend.api_secret = PLAINTEXT
        self.assertEqual(self.backend._get_secret("api_secret"), PLAINTEXT)

    def test_wrong_key_names_the_setting(self):
        self.backend.api_secret = PLAINTEXT
        with patch.dict(
            config.options,
            {"retail_secret_key": generate_key(), "retail_secret_key_previous": ""},
        ):
            with self.assertRaisesRegex(UserError, "retail_secret_key_previous"):
                self.backend._get_secret("api_secret")

    def test_rotation_reseals_with_the_new_key(self):
        self.backend.write({"api_key": "ck_1", "api_secret": PLAINTEXT})
        old_token = self.backend.sudo().api_secret_sealed
        new_key = generate_key()
        with secret_key_patcher(new_key, previous=TEST_KEY):
            # this backend's two, and any other module's demo secrets
            self.assertGreaterEqual(self.env["retail.backend"]._rotate_secret_key(), 2)
            self.assertEqual(self.env["retail.backend"]._rotate_secret_key(), 0)
        self.assertNotEqual(self.backend.sudo().api_secret_sealed, old_token)
        with patch.dict(
            config.options,
            {"retail_secret_key": new_key, "retail_secret_key_previous": ""},
        ):  # old keys gone
            self.assertEqual(self.backend._get_secret("api_secret"), PLAINTEXT)
            self.assertEqual(self.backend._get_secret("api_key"), "ck_1")

    def test_rotation_action_reports_the_count(self):
        self.backend.api_secret = PLAINTEXT
        with secret_key_patcher(generate_key(), previous=TEST_KEY):
            action = self.env["retail.backend"].action_rotate_secret_key()
        self.assertRegex(
            action["params"]["message"], r"^[1-9]\d* secret\(s\) re-encrypted"
        )

    def test_ciphertext_is_hidden_from_non_system_users(self):
        manager = self.env["res.users"].create(
            {
                "name": "Integration Manager",
                "login": "ri_manager_secrets",
                "groups_id": [
                    (6, 0, [self.env.ref("retail_integration.group_retail_manager").id])
                ],
            }
        )
        self.backend.api_secret = PLAINTEXT
        backend = self.backend.with_user(manager)
        self.assertTrue(backend.api_secret_is_set)
        self.assertFalse(backend.api_secret)
        with self.assertRaises(AccessError):
            backend.read(["api_secret_sealed"])
        backend.api_secret = "replaced"  # managers may still replace it
        self.assertEqual(self.backend._get_secret("api_secret"), "replaced")
