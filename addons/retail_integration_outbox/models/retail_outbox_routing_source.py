from odoo import api, models


class RetailOutboxRoutingSource(models.AbstractModel):
    """Records the outbox's cached routes and event type settings are read
    from (``retail.event.subscription._routes``,
    ``retail.outbox.event.type._specs``): creating, changing or deleting one
    clears those caches, in every worker through Odoo's cache signalling."""

    _name = "retail.outbox.routing.source"
    _description = "Outbox Routing Source"
    # The fields whose change alters routing; None: any field.
    _routing_fields = None

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        res = super().write(vals)
        if self._routing_fields is None or self._routing_fields & set(vals):
            self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res
