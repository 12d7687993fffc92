from odoo import _, fields, models


class PosOrder(models.Model):
    """A ticket of an external POS, imported once (``retail_ticket_id``)."""

    _name = "pos.order"
    _inherit = ["pos.order", "retail.correlated.mixin"]

    retail_backend_id = fields.Many2one(
        "retail.backend",
        "POS Backend",
        readonly=True,
        index="btree_not_null",
        groups="retail_integration.group_retail_user,"
        "retail_integration.group_retail_connector",
    )
    retail_ticket_id = fields.Many2one(
        "retail.pos.ticket",
        "External Ticket",
        readonly=True,
        index="btree_not_null",
        groups="retail_integration.group_retail_user,"
        "retail_integration.group_retail_connector",
    )
    retail_cashier = fields.Char("Cashier", readonly=True)
    retail_needs_review = fields.Boolean(
        "To Review",
        readonly=True,
        help="A return without a receipt reference, imported per the backend's policy.",
    )

    def init(self):
        # Exactly once, whatever a job does: one order per staged ticket.
        self.env.cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS pos_order_retail_ticket_uniq
               ON pos_order (retail_ticket_id) WHERE retail_ticket_id IS NOT NULL"""
        )

    def action_retail_mark_reviewed(self):
        self.write({"retail_needs_review": False})
        for order in self:
            order.message_post(body=_("Return reviewed."))
        return True
