from odoo.tests import HttpCase, tagged

from .common import secret_key_patcher


@tagged("retail", "-at_install", "post_install")
class TestUi(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(secret_key_patcher())

    def test_configure_a_backend_and_resolve_an_exception(self):
        exception = self.env["retail.sync.exception"]._report(
            "Order #2001 has a line for SKU TOUR-1 that no product has.",
            name="Unknown SKU TOUR-1",
            kind="mapping",
        )
        self.start_tour("/odoo", "retail_integration_tour", login="admin")
        backend = self.env["retail.backend"].search([("code", "=", "tour_shop")])
        self.assertEqual(backend.name, "Tour Shop")
        self.assertFalse(backend.api_secret)
        self.assertEqual(backend._get_secret("api_secret"), "tour-secret-123")
        self.assertRecordValues(
            exception,
            [{"state": "resolved", "user_id": self.env.ref("base.user_admin").id}],
        )
