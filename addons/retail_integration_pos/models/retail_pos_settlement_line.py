from odoo import api, fields, models


class RetailPosSettlementLine(models.Model):
    """One payment method of a Z report: its total beside what was received."""

    _name = "retail.pos.settlement.line"
    _description = "POS Settlement Line"
    _order = "zreport_id, method"

    zreport_id = fields.Many2one(
        "retail.pos.zreport", required=True, ondelete="cascade", index=True
    )
    store_day_id = fields.Many2one(
        related="zreport_id.store_day_id", store=True, index=True
    )
    company_id = fields.Many2one(related="zreport_id.company_id", store=True)
    register_code = fields.Char(related="zreport_id.register_code", string="Register")
    method = fields.Char("Payment Method", required=True)
    expected = fields.Float("Z Report")
    received = fields.Float("Received")
    difference = fields.Float(compute="_compute_difference", store=True)

    @api.depends("expected", "received")
    def _compute_difference(self):
        for line in self:
            line.difference = round(line.received - line.expected, 2)
