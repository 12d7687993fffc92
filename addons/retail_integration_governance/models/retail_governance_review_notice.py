from odoo import fields, models


class RetailGovernanceReviewNotice(models.Model):
    """That the owner of an integration was given an activity for one review
    date: the daily cron gives it once."""

    _name = "retail.governance.review.notice"
    _description = "Integration Review Notice"
    _order = "id desc"

    res_model = fields.Char(required=True, readonly=True)
    res_id = fields.Many2oneReference(
        model_field="res_model", required=True, readonly=True, index=True
    )
    review_date = fields.Date(required=True, readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    activity_id = fields.Many2one("mail.activity", readonly=True, ondelete="set null")

    _sql_constraints = [
        (
            "review_uniq",
            "unique(res_model, res_id, review_date)",
            "One notice per integration and review date.",
        )
    ]
