from datetime import timedelta

from odoo import _, api, fields, models

from odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint import (
    RetailWebhookEndpoint as WebhookEndpoint,
)
from odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint import (
    _reject,
)

WATERMARK = "retail_integration_governance.last_message_scan"
# Messages are scanned again this far back: one committed late (its request
# took long) still counts.
OVERLAP = timedelta(minutes=10)


class RetailWebhookEndpoint(models.Model):
    _name = "retail.webhook.endpoint"
    _inherit = ["retail.webhook.endpoint", "retail.governance.mixin"]

    last_message_at = fields.Datetime(
        "Last Message",
        readonly=True,
        copy=False,
        help="When it last accepted a message (refreshed every hour).",
    )
    neutralized = fields.Boolean(
        readonly=True,
        copy=False,
        help="This database is a neutralized copy: the endpoint answers 503 to "
        "every request and stores nothing, so a channel that still posts here "
        "changes nothing.",
    )

    _RECEIVE_FIELDS = [*WebhookEndpoint._RECEIVE_FIELDS, "neutralized"]

    def _compute_last_used_at(self):
        for endpoint in self:
            endpoint.last_used_at = endpoint.last_message_at

    def _check_and_store(self, request):
        if self.neutralized:
            return _reject(
                503,
                "neutralized",
                "This database is a neutralized copy; it accepts no channel traffic.",
            )
        return super()._check_and_store(request)

    def action_accept_traffic(self):
        """Let a neutralized copy's endpoint take requests again (a test
        channel pointed at the copy)."""
        for endpoint in self.filtered("neutralized"):
            endpoint.neutralized = False
            endpoint.message_post(
                body=_("Accepts channel traffic again on this neutralized copy.")
            )
        return True

    @api.model
    def _cron_refresh_last_message(self):
        """Store each endpoint's latest message time. Reads only the messages
        received since the previous run (the index on received_at), and
        writes by SQL: the endpoints' settings cache of the accept path is
        not cleared for it."""
        params = self.env["ir.config_parameter"].sudo()
        since = params.get_param(WATERMARK)
        now = fields.Datetime.now()
        self.env["retail.inbound.message"].flush_model(["received_at", "endpoint_id"])
        self.env.cr.execute(
            """
            UPDATE retail_webhook_endpoint e
               SET last_message_at = GREATEST(e.last_message_at, m.latest)
              FROM (SELECT endpoint_id, max(received_at) AS latest
                      FROM retail_inbound_message
                     WHERE %(since)s IS NULL OR received_at > %(since)s
                     GROUP BY endpoint_id) m
             WHERE e.id = m.endpoint_id
               AND e.last_message_at IS DISTINCT FROM
                   GREATEST(e.last_message_at, m.latest)
            """,
            {"since": since or None},
        )
        updated = self.env.cr.rowcount
        params.set_param(WATERMARK, fields.Datetime.to_string(now - OVERLAP))
        self.invalidate_model(["last_message_at"])
        return updated
