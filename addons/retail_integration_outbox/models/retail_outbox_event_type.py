from odoo import fields, models


class RetailOutboxEventType(models.Model):
    """A canonical event type a subscription can ask for (data records)."""

    _name = "retail.outbox.event.type"
    _description = "Outbox Event Type"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True, help="The type receivers see, e.g. order.confirmed."
    )
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)

    _sql_constraints = [("code_uniq", "unique(code)", "Event type codes are unique.")]
