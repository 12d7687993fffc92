from odoo import fields, models

DATA_CLASSES = [
    ("public", "Public"),
    ("internal", "Internal"),
    ("confidential", "Confidential"),
    ("personal", "Personal data"),
]


class RetailGovernanceMixin(models.AbstractModel):
    """Who answers for an integration, why it exists, what data it carries,
    when it was last used and when it is reviewed next.

    The classification values are those of the monitoring module's flows.
    An endpoint or a subscription left empty takes its backend's owner,
    purpose, classification and review date (the inventory shows them so).
    """

    _name = "retail.governance.mixin"
    _description = "Integration Governance"
    _inherit = ["mail.activity.mixin"]

    owner_id = fields.Many2one(
        "res.users",
        string="Owner",
        tracking=True,
        domain=[("share", "=", False)],
        help="Answers for this integration: gets its review activities.",
    )
    purpose = fields.Text(
        tracking=True, help="Why this integration exists, in a sentence."
    )
    data_classification = fields.Selection(
        DATA_CLASSES,
        tracking=True,
        help="The most sensitive data it carries; sets how long personal data "
        "stays in its stored payloads.",
    )
    review_date = fields.Date(
        "Next Review",
        tracking=True,
        help="When its owner checks it is still needed, with the same rights. "
        "Past it, the owner gets an activity.",
    )
    last_used_at = fields.Datetime(
        "Last Use", compute="_compute_last_used_at", help="Last traffic seen."
    )

    def _compute_last_used_at(self):
        # Each model says where its traffic shows (messages, deliveries, pulls).
        self.last_used_at = False
