from odoo import models

from ..lib import payloads
from ..lib.events import INVOICE_PAID
from .tools import partner_data, refs_data


@payloads.register(INVOICE_PAID)
def invoice_paid(invoice, scope):
    if invoice.payment_state not in ("paid", "in_payment"):
        return None
    return invoice._retail_outbox_invoice()


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "retail.correlated.mixin"]

    def _retail_correlation_id(self):
        # An invoice made by a person carries on its order's flow.
        orders = self.line_ids.sale_line_ids.order_id
        return super()._retail_correlation_id() or next(
            (o.retail_correlation_id for o in orders if o.retail_correlation_id),
            False,
        )

    def _invoice_paid_hook(self):
        res = super()._invoice_paid_hook()
        invoices = self.filtered(lambda m: m.move_type in ("out_invoice", "out_refund"))
        self.env["retail.outbox.event"]._capture(INVOICE_PAID, invoices)
        return res

    def _retail_outbox_invoice(self):
        orders = self.line_ids.sale_line_ids.order_id
        return {
            "name": self.name,
            "move_type": self.move_type,
            "payment_state": self.payment_state,
            "invoice_date": self.invoice_date,
            "partner": partner_data(self.partner_id),
            "currency": self.currency_id.name,
            "amount_total": self.amount_total,
            "amount_residual": self.amount_residual,
            "origin": self.invoice_origin or None,
            "sale_orders": [
                {"name": order.name, "external_refs": refs_data(order)}
                for order in orders
            ],
        }
