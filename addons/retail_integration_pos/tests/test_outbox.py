from odoo.tests import tagged

from odoo.addons.retail_integration_outbox.tests.common import allow_private_urls

from .common import PosCase, ticket


@tagged("retail", "-at_install", "post_install")
class TestStoresOut(PosCase):
    """What the stores need back (their stock levels and prices) goes through
    the outbox to the backend's subscriptions: coalesced, signed, retried."""

    def test_the_stock_a_posted_day_moves_goes_to_the_stores(self):
        self.startPatcher(allow_private_urls())
        types = self.env["retail.outbox.event.type"].search(
            [("code", "in", ("stock.level_changed", "price.changed"))]
        )
        subscription = self.env["retail.event.subscription"].create(
            {
                "name": "Store tills",
                "backend_id": self.backend.id,
                "url": "http://127.0.0.1:9/stores",
                "event_type_ids": [(6, 0, types.ids)],
            }
        )
        self.send_tickets([ticket(1001), ticket(1002)])
        # The day is posted by its job (run here: the outbox's own dispatch
        # jobs must stay queued, not run at once).
        message = self.receive(
            "pos.zreport", self.zreport(2, {"card": "51.00"}), no_delay=False
        )
        zreport = self.env["retail.pos.zreport"].browse(message.res_id)
        self.assertEqual(zreport.state, "balanced")
        zreport._post()
        self.assertEqual(zreport.session_id.state, "closed")
        self.env.cr.flush()  # the outbox writes its events as the transaction commits
        deliveries = self.env["retail.outbox.delivery"].search(
            [("subscription_id", "=", subscription.id)]
        )
        keys = deliveries.mapped("aggregate_key")
        self.assertIn(
            f"product.product,{self.product_1.id}@stock.warehouse,{self.warehouse.id}",
            keys,
        )
        event = deliveries.event_id.filtered(
            lambda e: e.aggregate_id == self.product_1.id
        )[-1:]
        self.assertEqual(event.payload["warehouse"]["id"], self.warehouse.id)
