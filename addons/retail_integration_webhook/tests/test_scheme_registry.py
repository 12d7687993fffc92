from odoo.tests import HttpCase, tagged

from odoo.addons.retail_integration.tests.common import secret_key_patcher

from ..lib import schemes


def verify_shared_token(req):
    """A scheme of a module of its own: the secret itself in a header."""
    (token,) = schemes.require_headers(req.headers, "x-test-token")
    if not schemes.matches_any([token], req.secrets):
        raise schemes.Rejected(401, "invalid_signature", "Wrong token.")
    return schemes.Verified(
        req.headers.get("x-test-delivery"), req.headers.get("x-test-topic")
    )


@tagged("retail", "-at_install", "post_install")
class TestSchemeRegistry(HttpCase):
    """A scheme registered from another module is offered on endpoints and
    checks their requests, with no edit to this module."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        schemes.register("test-token", "Shared Token", signs_timestamp=False)(
            verify_shared_token
        )
        cls.addClassCleanup(schemes.SCHEMES.unregister, "test-token")
        backend = cls.env["retail.backend"].create(
            {"name": "Token Shop", "code": "token_shop", "state": "active"}
        )
        cls.startClassPatcher(secret_key_patcher())
        cls.endpoint = cls.env["retail.webhook.endpoint"].create(
            {
                "name": "Token",
                "backend_id": backend.id,
                "scheme": "test-token",
                "secret": "s3cret",
            }
        )

    def _post(self, token, delivery):
        url = f"{self.base_url()}/retail/webhook/{self.endpoint.sudo().token}"
        headers = {
            "Content-Type": "application/json",
            "X-Test-Token": token,
            "X-Test-Delivery": delivery,
            "X-Test-Topic": "ping",
        }
        return self.opener.post(url, data=b'{"hello": 1}', headers=headers, timeout=12)

    def test_a_registered_scheme_is_offered_and_checks_requests(self):
        field = self.env["retail.webhook.endpoint"]._fields["scheme"]
        self.assertIn(
            ("test-token", "Shared Token"), field._description_selection(self.env)
        )
        self.assertEqual(self._post("wrong", "t-1").status_code, 401)
        response = self._post("s3cret", "t-2")
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["retail.inbound.message"].search(
            [("endpoint_id", "=", self.endpoint.id)]
        )
        self.assertEqual((message.delivery_id, message.topic), ("t-2", "ping"))
        self.assertTrue(self.endpoint.replay_window_hours)
        self.assertEqual(message.body_key, message.body_hash, "signs no timestamp")
        message._process()
        self.assertEqual(message.state, "done")
