from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class RetailPosPaymentMap(models.Model):
    """A payment method as the POS names it (``cash``, ``CARD``…) and the
    Odoo payment method its amounts are recorded with."""

    _name = "retail.pos.payment.map"
    _description = "POS Payment Method Mapping"
    _order = "backend_id, code"
    _check_company_auto = True

    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    code = fields.Char("External Method", required=True)
    is_cash = fields.Boolean(
        "Register Cash",
        help="Cash in the register's drawer: recorded with the cash method of "
        "the register's own point of sale.",
    )
    payment_method_id = fields.Many2one(
        "pos.payment.method", check_company=True, help="For methods other than cash."
    )

    _sql_constraints = [
        (
            "code_uniq",
            "unique(backend_id, code)",
            "This external payment method is mapped twice.",
        ),
    ]

    @api.constrains("is_cash", "payment_method_id")
    def _check_target(self):
        for mapping in self:
            if not mapping.is_cash and not mapping.payment_method_id:
                raise ValidationError(
                    _(
                        "Payment method %(code)s: choose an Odoo payment method, "
                        "or mark it as the register's cash.",
                        code=mapping.code,
                    )
                )

    def _method_for(self, register):
        """The pos.payment.method of this mapping at ``register``."""
        self.ensure_one()
        return register._cash_method() if self.is_cash else self.payment_method_id
