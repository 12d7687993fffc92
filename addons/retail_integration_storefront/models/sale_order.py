from odoo import api, fields, models

from odoo.addons.retail_integration.lib.canonical import FINANCIAL_STATES

PAYMENT_LABELS = {
    "pending": "Pending",
    "authorized": "Authorized",
    "partially_paid": "Partially Paid",
    "paid": "Paid",
    "partially_refunded": "Partially Refunded",
    "refunded": "Refunded",
    "voided": "Voided",
}


class SaleOrder(models.Model):
    _inherit = "sale.order"

    retail_backend_id = fields.Many2one(
        "retail.backend", "Channel", readonly=True, copy=False, index="btree_not_null"
    )
    retail_order_name = fields.Char(
        "Channel Order",
        readonly=True,
        copy=False,
        index="trigram",
        help="The order's name on the channel, e.g. #1001.",
    )
    retail_payment_state = fields.Selection(
        [(state, PAYMENT_LABELS[state]) for state in FINANCIAL_STATES],
        "Channel Payment",
        readonly=True,
        copy=False,
    )
    retail_channel_state = fields.Selection(
        [("open", "Open"), ("closed", "Closed"), ("cancelled", "Cancelled")],
        "Channel Status",
        readonly=True,
        copy=False,
    )
    retail_updated_at = fields.Datetime("Channel Update", readonly=True, copy=False)
    retail_lines_hash = fields.Char(readonly=True, copy=False)
    retail_refunds = fields.Json(readonly=True, copy=False)
    retail_payment_gateway = fields.Char(
        "Channel Payment Gateway", readonly=True, copy=False
    )
    retail_message_count = fields.Integer(
        "Inbound Messages", compute="_compute_retail_message_count"
    )

    @api.depends("retail_backend_id")
    def _compute_retail_message_count(self):
        # sudo: a salesperson sees how many webhooks built an order without reading them
        Message = self.env["retail.inbound.message"].sudo()
        groups = Message._read_group(
            [("res_model", "=", "sale.order"), ("res_id", "in", self.ids)],
            ["res_id"],
            ["__count"],
        )
        counts = dict(groups)
        for order in self:
            order.retail_message_count = counts.get(order.id, 0)

    def action_open_retail_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retail_integration_webhook.retail_inbound_message_action"
        )
        action["domain"] = [("res_model", "=", "sale.order"), ("res_id", "=", self.id)]
        action["context"] = {}
        return action
