from odoo import fields, models


class RetailOutboxAggregate(models.Model):
    """Last sequence and data digest per aggregate (a document, or a value
    per scope such as a product's stock in a warehouse).

    Capture bumps the row in the same statement that writes the event; the row
    lock serialises writers of one aggregate, so sequences follow commit order.
    """

    _name = "retail.outbox.aggregate"
    _description = "Outbox Aggregate Sequence"
    _log_access = False

    key = fields.Char(required=True, readonly=True)
    last_sequence = fields.Integer(readonly=True)
    last_digest = fields.Char(readonly=True)

    _sql_constraints = [("key_uniq", "unique(key)", "One row per aggregate.")]
