import time

from odoo import fields, models

from odoo.addons.retail_integration_outbox.lib.events import excerpt


class RetailEventSubscription(models.Model):
    _inherit = "retail.event.subscription"

    delivery_mode = fields.Selection(
        selection_add=[("storefront", "Storefront API")],
        ondelete={"storefront": "cascade"},
    )

    def _deliver(self, deliveries, session, secrets):
        """Storefront mode: the batch goes to the channel's API in as few calls
        as it allows (``retail.storefront.exporter``); one outcome per delivery."""
        if self.delivery_mode != "storefront":
            yield from super()._deliver(deliveries, session, secrets)
            return
        start = time.perf_counter()
        results = self.env["retail.storefront.exporter"]._deliver(
            self.backend_id, deliveries
        )
        latency = int((time.perf_counter() - start) * 1000)
        now = fields.Datetime.now()
        for delivery in deliveries:
            outcome, status, text = results[delivery.id]
            yield (
                delivery,
                outcome,
                {
                    "attempts": delivery.attempts + 1,
                    "last_attempt": now,
                    "last_status_code": status,
                    "response_excerpt": excerpt(text or outcome.reason),
                    "latency_ms": latency,
                },
            )
