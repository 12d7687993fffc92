from odoo import _, api, fields, models
from odoo.exceptions import UserError


class RetailApiReturn(models.Model):
    """A return an API client opened for an order's lines: the goods come
    back through a return picking (received), the store inspects them, and
    only then is the refund (a credit note) made."""

    _name = "retail.api.return"
    _description = "API Return"
    _inherit = ["mail.thread", "retail.correlated.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name")
    client_id = fields.Many2one(
        "retail.api.client", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    sale_order_id = fields.Many2one(
        "sale.order", required=True, readonly=True, check_company=True
    )
    order_external_id = fields.Char("Order ID", readonly=True)
    state = fields.Selection(
        [
            ("open", "Open"),
            ("received", "Goods Received"),
            ("inspected", "Inspected"),
            ("refunded", "Refunded"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="open",
        readonly=True,
        tracking=True,
    )
    reason = fields.Selection(
        [
            ("damaged", "Damaged"),
            ("wrong_item", "Wrong item"),
            ("not_as_described", "Not as described"),
            ("no_longer_needed", "No longer needed"),
            ("other", "Other"),
        ],
        required=True,
        readonly=True,
    )
    note = fields.Text(readonly=True)
    line_ids = fields.One2many("retail.api.return.line", "return_id", readonly=True)
    picking_id = fields.Many2one("stock.picking", readonly=True, check_company=True)
    refund_id = fields.Many2one("account.move", string="Refund", readonly=True)

    def _compute_name(self):
        for ret in self:
            ret.name = _(
                "Return %(id)s of %(order)s", id=ret.id, order=ret.sale_order_id.name
            )

    @api.model
    def _open(self, client, sale, external_id, quantities, reason, note):
        """A return of ``quantities`` ({sale order line: qty}); its picking
        waits for the goods at the warehouse."""
        by_product = {}
        for line, qty in quantities.items():
            by_product[line.product_id] = by_product.get(line.product_id, 0.0) + qty
        picking = self.env["retail.storefront.importer"]._return_delivery(
            sale, by_product
        )
        return self.create(
            {
                "client_id": client.id,
                "company_id": sale.company_id.id,
                "sale_order_id": sale.id,
                "order_external_id": external_id,
                "reason": reason,
                "note": note,
                "picking_id": picking.id,
                "line_ids": [
                    (0, 0, {"sale_line_id": line.id, "quantity": qty})
                    for line, qty in quantities.items()
                ],
            }
        )

    def _goods_received(self):
        self.filtered(lambda r: r.state == "open").write({"state": "received"})

    def action_inspected(self):
        for ret in self:
            if ret.state != "received":
                raise UserError(
                    _("%(name)s: the goods are not received yet.", name=ret.name)
                )
        self.write({"state": "inspected"})
        return True

    def action_refund(self):
        """A posted credit note for the returned lines, at their sold price.
        Refused before the goods are received and inspected."""
        for ret in self:
            if ret.state != "inspected":
                raise UserError(
                    _(
                        "%(name)s: refund once the goods are received and inspected.",
                        name=ret.name,
                    )
                )
            sale = ret.sale_order_id
            refund = (
                self.env["account.move"]
                .with_company(ret.company_id)
                .create(
                    {
                        "move_type": "out_refund",
                        "partner_id": sale.partner_invoice_id.id,
                        "currency_id": sale.currency_id.id,
                        "invoice_origin": sale.name,
                        "ref": ret.name,
                        "invoice_line_ids": [
                            (
                                0,
                                0,
                                {
                                    "product_id": line.sale_line_id.product_id.id,
                                    "quantity": line.received or line.quantity,
                                    "price_unit": line.sale_line_id.price_unit,
                                    "discount": line.sale_line_id.discount,
                                    "tax_ids": [(6, 0, line.sale_line_id.tax_id.ids)],
                                    "sale_line_ids": [(6, 0, line.sale_line_id.ids)],
                                },
                            )
                            for line in ret.line_ids
                        ],
                    }
                )
            )
            refund.action_post()
            ret.write({"state": "refunded", "refund_id": refund.id})
        return True

    def action_cancel(self):
        for ret in self:
            if ret.state not in ("open", "received"):
                raise UserError(_("%(name)s cannot be cancelled now.", name=ret.name))
            if ret.picking_id.state not in ("done", "cancel"):
                ret.picking_id.action_cancel()
        self.write({"state": "cancelled"})
        return True


class RetailApiReturnLine(models.Model):
    _name = "retail.api.return.line"
    _description = "API Return Line"

    return_id = fields.Many2one(
        "retail.api.return", required=True, ondelete="cascade", index=True
    )
    sale_line_id = fields.Many2one("sale.order.line", required=True)
    product_id = fields.Many2one(related="sale_line_id.product_id")
    quantity = fields.Float(required=True, digits="Product Unit of Measure")
    received = fields.Float(
        compute="_compute_received", digits="Product Unit of Measure"
    )

    @api.depends("return_id.picking_id.move_ids.quantity", "return_id.picking_id.state")
    def _compute_received(self):
        for line in self:
            picking = line.return_id.picking_id
            moves = picking.move_ids.filtered(
                lambda m, p=line.product_id: m.product_id == p and m.state == "done"
            )
            line.received = sum(moves.mapped("quantity"))
