from odoo import models

from ..lib import payloads
from ..lib.events import SHIPMENT_DISPATCHED
from .tools import partner_data, product_data, refs_data


@payloads.register(SHIPMENT_DISPATCHED)
def shipment_dispatched(picking, scope):
    return picking._retail_outbox_shipment() if picking.state == "done" else None


class StockPicking(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "retail.correlated.mixin"]

    def _retail_correlation_id(self):
        # A picking validated by a person carries on its order's flow.
        return super()._retail_correlation_id() or self.sale_id.retail_correlation_id

    def _action_done(self):
        res = super()._action_done()
        shipments = self.filtered(lambda p: p.picking_type_code == "outgoing")
        self.env["retail.outbox.event"]._capture(SHIPMENT_DISPATCHED, shipments)
        return res

    def _retail_outbox_shipment(self):
        order = self.sale_id
        return {
            "name": self.name,
            "origin": self.origin or None,
            "sale_order": {"name": order.name, "external_refs": refs_data(order)}
            if order
            else None,
            "carrier": self.carrier_id.name or None,
            "tracking_ref": self.carrier_tracking_ref or None,
            "tracking_url": self.carrier_tracking_url or None,
            "date_done": self.date_done,
            "partner": partner_data(self.partner_id),
            "warehouse": self.picking_type_id.warehouse_id.code or None,
            "lines": [
                {
                    "product": product_data(move.product_id),
                    "quantity": move.quantity,
                    "uom": move.product_uom.name,
                }
                for move in self.move_ids
                if move.state == "done"
            ],
        }
