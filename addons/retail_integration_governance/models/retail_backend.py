from odoo import fields, models


class RetailBackend(models.Model):
    _name = "retail.backend"
    _inherit = ["retail.backend", "retail.governance.mixin"]

    # The backend's Responsible is its owner: one field, two names.
    owner_id = fields.Many2one(
        related="user_id", readonly=False, store=False, tracking=False
    )
    data_classification = fields.Selection(default="personal", required=True)
    endpoint_ids = fields.One2many("retail.webhook.endpoint", "backend_id")

    def _compute_last_used_at(self):
        """The latest of: a message received on its endpoints, a delivery
        sent by its subscriptions, and (storefronts) a reconciliation pull."""
        pulled = "storefront_reconciled_at" in self._fields
        for backend in self:
            moments = [
                *backend.with_context(active_test=False).endpoint_ids.mapped(
                    "last_message_at"
                ),
                *backend.with_context(active_test=False).subscription_ids.mapped(
                    "last_success"
                ),
                pulled and backend.storefront_reconciled_at,
            ]
            backend.last_used_at = max(filter(None, moments), default=False)
