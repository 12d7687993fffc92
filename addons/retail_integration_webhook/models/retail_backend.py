from odoo import models


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def write(self, vals):
        res = super().write(vals)
        if vals.get("state") == "active":
            # What arrived while the backend was not active is processed now.
            self.env["retail.inbound.message"].search(
                [("backend_id", "in", self.ids), ("state", "=", "received")]
            )._enqueue()
        return res

    def unlink(self):
        # Their endpoints go by the database's cascade, not by their unlink.
        self.env["retail.webhook.endpoint"]._clear_receive_cache()
        return super().unlink()
