from odoo import fields, models

CONTEXT_KEY = "retail_correlation_id"


class RetailCorrelatedMixin(models.AbstractModel):
    """A business record that remembers which integration flow made it.

    Created while a webhook's handler runs (or any code that sets the
    ``retail_correlation_id`` context key), it keeps that flow's correlation
    id, and the outbox events its later changes write carry it on: one id
    from the channel's order to the shipment that follows. Records made by a
    person in the UI have none, and their events start a new one.
    """

    _name = "retail.correlated.mixin"
    _description = "Record carrying an integration correlation id"

    retail_correlation_id = fields.Char(
        "Correlation ID",
        readonly=True,
        copy=False,
        index="btree_not_null",
        default=lambda self: self.env.context.get(CONTEXT_KEY),
        help="The id that follows one integration flow across messages, "
        "records, events and deliveries.",
    )

    def _retail_correlation_id(self):
        """The correlation id this record's events carry (False: none)."""
        self.ensure_one()
        return self.retail_correlation_id
