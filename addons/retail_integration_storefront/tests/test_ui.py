from odoo.tests import HttpCase, tagged

from .common import StorefrontMixin


@tagged("retail", "-at_install", "post_install")
class TestStorefrontUi(StorefrontMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_storefront()

    def test_map_an_unknown_sku_and_retry(self):
        data = self.order_data()
        data["lines"][1]["sku"] = "TOUR-SKU"
        message = self.receive("order.created", data)
        self.assertEqual(message.state, "failed")
        self.start_tour(
            "/odoo/action-retail_integration.retail_sync_exception_action",
            "retail_integration_storefront_tour",
            login="admin",
        )
        self.assertEqual(message.state, "queued")
        self.assertEqual(
            self.env["retail.external.ref"]._find_record(
                self.backend, "product.product", "sku:TOUR-SKU"
            ),
            self.product_2,
        )
        message._process()
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.order_of("T-1").state, "sale")
