from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from odoo.addons.retail_integration.tests.common import secret_key_patcher


@tagged("retail", "-at_install", "post_install")
class TestUi(HttpCase):
    def test_inventory_overdue_review_tour(self):
        self.startPatcher(secret_key_patcher())
        backend = self.env.ref("retail_integration.demo_backend_storefront")
        self.env["retail.webhook.endpoint"].create(
            {
                "name": "Tour hooks",
                "backend_id": backend.id,
                "topics": "orders/create",
                "purpose": "Tour orders in",
                "owner_id": self.env.ref("base.user_admin").id,
                "review_date": fields.Date.today() - timedelta(days=3),
            }
        )
        self.start_tour(
            "/odoo/action-retail_integration_governance.retail_integration_inventory_action",
            "retail_integration_governance_inventory_tour",
            login="admin",
        )
