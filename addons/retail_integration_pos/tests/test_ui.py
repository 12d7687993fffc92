from odoo.tests import HttpCase, tagged

from .common import PosMixin, ticket


@tagged("retail", "-at_install", "post_install")
class TestStoreDayUi(PosMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_pos()

    def test_the_store_day_view(self):
        self.backend.pos_settlement_deadline_hours = 0
        self.send_tickets([ticket(1001), ticket(1003)])
        message = self.send_zreport(
            self.zreport(3, {"card": "76.50"}, first_number="1001", last_number="1003")
        )
        zreport = self.env["retail.pos.zreport"].browse(message.res_id)
        self.assertEqual(zreport.state, "difference")
        self.start_tour(
            "/odoo/action-retail_integration_pos.retail_pos_store_day_action",
            "retail_integration_pos_store_day_tour",
            login="admin",
        )
        self.assertEqual(zreport.state, "accepted", "posted by the job it queued")
        self.assertIn("voided on paper", zreport.store_day_id.difference_reason)
        self.assertEqual(zreport.exception_id.state, "resolved")
