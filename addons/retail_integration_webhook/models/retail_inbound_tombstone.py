from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import config


class RetailInboundTombstone(models.Model):
    """What remains of a webhook message deleted after its retention: enough
    to recognise the same delivery if it is ever sent again.

    Shopify, WooCommerce and GitHub-style sign no timestamp, so a captured
    request stays valid forever; without this, it would be accepted again once
    its message is gone. Kept ``retail_webhook_tombstone_days`` (400 by
    default), then purged.
    """

    _name = "retail.inbound.tombstone"
    _description = "Deleted Webhook Message (tombstone)"
    _log_access = False
    _order = "received_at desc, id desc"

    endpoint_id = fields.Many2one(
        "retail.webhook.endpoint", required=True, ondelete="cascade", readonly=True
    )
    delivery_id = fields.Char(required=True, readonly=True)
    body_hash = fields.Char(readonly=True)
    received_at = fields.Datetime(required=True, readonly=True, index=True)

    _sql_constraints = [
        (
            "delivery_uniq",
            "unique(endpoint_id, delivery_id)",
            "One tombstone per delivery and endpoint.",
        ),
    ]

    @api.model
    def _bury(self, messages):
        """Keep the tombstones of ``messages``, about to be deleted."""
        messages.flush_recordset(["endpoint_id", "delivery_id", "body_hash"])
        self.env.cr.execute(
            """INSERT INTO retail_inbound_tombstone
                   (endpoint_id, delivery_id, body_hash, received_at)
               SELECT endpoint_id, delivery_id, body_hash, received_at
               FROM retail_inbound_message WHERE id = ANY(%s)
               ON CONFLICT (endpoint_id, delivery_id) DO NOTHING""",
            [messages.ids],
        )

    @api.model
    def _gc(self):
        """Delete the tombstones past their horizon; how many."""
        days = int(config.get("retail_webhook_tombstone_days") or 400)
        self.flush_model(["received_at"])
        self.env.cr.execute(
            "DELETE FROM retail_inbound_tombstone WHERE received_at < %s",
            [fields.Datetime.now() - timedelta(days=days)],
        )
        deleted = self.env.cr.rowcount
        self.invalidate_model()
        return deleted
