from odoo import api, models

from ..lib import drains


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

    def _webhook_drain(self, slot=0):
        """Job: process this backend's due webhook messages (lib/drains.py)."""
        self.ensure_one()
        return self.env["retail.inbound.message"]._drain(self, slot)

    @api.model
    def _webhook_rearm_drains(self):
        """Cron, a safety net: a backend with due messages and no live drain
        (its job failed or was deleted by hand) gets one, which takes the
        dead one's flag over. Messages kept as received by an active backend
        (their request read its state before its activation committed) are
        queued."""
        self.env["retail.inbound.message"].search(
            [("state", "=", "received"), ("backend_id.state", "=", "active")]
        )._enqueue()
        self.env.cr.execute(drains.ORPHANS_SQL)
        backends = self.browse([row[0] for row in self.env.cr.fetchall()])
        Message = self.env["retail.inbound.message"]
        backends._ensure_technical_user()
        for backend in backends:
            Message._delay_drain(backend, backend.job_channel, 0)
        return len(backends)
