from odoo import models

from ..lib import payloads
from ..lib.events import ORDER_CANCELLED, ORDER_CONFIRMED
from .tools import partner_data, product_data, refs_data


# Built when the transaction commits: a confirmation undone in the same
# transaction sends nothing.
@payloads.register(ORDER_CONFIRMED)
def order_confirmed(order, scope):
    return order._retail_outbox_order() if order.state in ("sale", "done") else None


@payloads.register(ORDER_CANCELLED)
def order_cancelled(order, scope):
    return order._retail_outbox_order() if order.state == "cancel" else None


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "retail.correlated.mixin"]

    def _action_confirm(self):
        res = super()._action_confirm()
        self.env["retail.outbox.event"]._capture(ORDER_CONFIRMED, self)
        return res

    def _action_cancel(self):
        res = super()._action_cancel()
        self.env["retail.outbox.event"]._capture(ORDER_CANCELLED, self)
        return res

    def _retail_outbox_order(self):
        return {
            "name": self.name,
            "client_order_ref": self.client_order_ref or None,
            "state": self.state,
            "date_order": self.date_order,
            "partner": partner_data(self.partner_id),
            "shipping_partner": partner_data(self.partner_shipping_id),
            "warehouse": self.warehouse_id.code or None,
            "currency": self.currency_id.name,
            "amount_untaxed": self.amount_untaxed,
            "amount_tax": self.amount_tax,
            "amount_total": self.amount_total,
            "lines": [
                {
                    "product": product_data(line.product_id),
                    "description": line.name,
                    "quantity": line.product_uom_qty,
                    "uom": line.product_uom.name,
                    "price_unit": line.price_unit,
                    "discount": line.discount,
                    "price_subtotal": line.price_subtotal,
                    "price_total": line.price_total,
                }
                for line in self.order_line
                if not line.display_type
            ],
            "external_refs": refs_data(self),
        }
