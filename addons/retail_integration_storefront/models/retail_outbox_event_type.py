from odoo import api, models

from .retail_backend_subscription import EXPORT_FLOWS

FLOW_CODES = {code for codes in EXPORT_FLOWS.values() for code in codes}


class RetailOutboxEventType(models.Model):
    _inherit = "retail.outbox.event.type"

    @api.model_create_multi
    def create(self, vals_list):
        """A type a storefront flow takes that arrives later (a carrier
        connector installed after the backends: shipment.delivered) joins
        their subscriptions."""
        types = super().create(vals_list)
        if FLOW_CODES & set(types.mapped("code")):
            # sudo: the backends' own connector subscriptions follow the types
            # a module installs, whoever installs it
            backends = (
                self.env["retail.backend"]
                .sudo()
                .search([("channel_type", "=", "storefront")])
            )
            backends._storefront_sync_subscription()
        return types
