from odoo import models


class RetailEventSubscription(models.Model):
    _name = "retail.event.subscription"
    _inherit = ["retail.event.subscription", "retail.governance.mixin"]

    def _compute_last_used_at(self):
        for subscription in self:
            subscription.last_used_at = subscription.last_success
