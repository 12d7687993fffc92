from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.retail_integration.lib import standard_webhooks

from .common import OutboxCase


@tagged("retail", "post_install", "-at_install")
class TestSubscription(OutboxCase):
    def new(self, **vals):
        return self.env["retail.event.subscription"].create(
            {
                "name": "New",
                "backend_id": self.backend.id,
                "url": "https://hooks.example.com/x",
                "event_type_ids": [
                    (
                        6,
                        0,
                        self.env.ref(
                            "retail_integration_outbox.event_type_order_confirmed"
                        ).ids,
                    )
                ],
                **vals,
            }
        )

    def test_generated_secret_is_shown_once(self):
        sub = self.new()
        self.assertTrue(sub.signing_secret_is_set)
        self.assertFalse(sub.signing_secret, "write-only")
        self.assertFalse(sub.secret_shown)
        action = sub.action_show_secret()
        secret = action["params"]["message"]
        self.assertTrue(secret.startswith(standard_webhooks.SECRET_PREFIX))
        self.assertEqual(secret, sub._get_secret("signing_secret"))
        self.assertNotIn(secret, str(sub.signing_secret_sealed))
        with self.assertRaises(UserError):
            sub.action_show_secret()
        rotated = sub.action_rotate_secret()["params"]["message"]
        self.assertNotEqual(rotated, secret)

    def test_rotate_recovers_a_secret_sealed_with_a_lost_key(self):
        sub = self.new()
        sub.sudo().signing_secret_sealed = "sealed-with-a-key-now-lost"
        with self.assertRaises(UserError):
            sub._get_secret("signing_secret")
        secret = sub.action_rotate_secret()["params"]["message"]
        self.assertEqual(sub._get_secret("signing_secret"), secret)
        self.assertFalse(sub.previous_secret_until, "no old secret to keep")

    def test_rotation_grace_is_bounded(self):
        for hours in (-1, 24 * 31):
            with self.subTest(hours=hours), self.assertRaises(ValidationError):
                self.new(secret_grace_hours=hours)

    def test_typed_secret_is_not_shown(self):
        sub = self.new(signing_secret="whsec_" + "QUJD" * 8)
        self.assertTrue(sub.secret_shown)
        with self.assertRaises(UserError):
            sub.action_show_secret()

    def test_policy_validation(self):
        for vals in (
            {"url": "ftp://x.example"},
            {"retry_schedule": "soon"},
            {"timeout": 0},
            {"retry_jitter": 1.5},
        ):
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                self.new(**vals)

    def test_extra_headers_are_sent(self):
        self.subscription.extra_headers_text = '{"X-Api-Key": "k-1"}'
        self.assertEqual(self.subscription.extra_headers, {"X-Api-Key": "k-1"})
        with self.assertRaises(ValidationError):
            self.subscription.extra_headers_text = "[1, 2]"
        order = self.make_order()
        order.action_confirm()
        self.commit_hooks()
        self.dispatch()
        self.assertTrue(self.receiver.received)
        self.assertEqual(self.receiver.received[0]["headers"]["x-api-key"], "k-1")

    def test_user_reads_and_replays_but_does_not_configure(self):
        user = self.env["res.users"].create(
            {
                "name": "Desk",
                "login": "outbox_desk",
                "groups_id": [
                    (6, 0, self.env.ref("retail_integration.group_retail_user").ids)
                ],
            }
        )
        order = self.make_order()
        order.action_confirm()
        self.commit_hooks()
        delivery = (
            self.env["retail.outbox.delivery"]
            .with_user(user)
            .search([("event_type", "=", "order.confirmed")])
        )
        self.assertTrue(delivery)
        delivery.action_replay()
        self.assertEqual(delivery.replay_count, 1)
        with self.assertRaises(AccessError):
            self.subscription.with_user(user).write({"url": "https://evil.example/"})
