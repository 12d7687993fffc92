from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib import pii
from . import pii_retention


class RetailInboundMessage(models.Model):
    _inherit = "retail.inbound.message"

    pii_masked_at = fields.Datetime(
        "Personal Data Masked",
        readonly=True,
        copy=False,
        help="When names, e-mails, phones and addresses were masked in the body "
        "(its ids, totals and SKUs stay). Empty: not checked yet.",
    )
    pii_masked_count = fields.Integer("Values Masked", readonly=True, copy=False)

    def init(self):
        res = super().init()
        # The masking cron's queue: only the rows it may have to mask, in id
        # order. Partial, so it holds neither the masked rows (NULL: not
        # checked; the column is added without rewriting the table) nor the
        # ones waiting to be processed.
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS retail_inbound_message_pii_due
               ON retail_inbound_message (id)
               WHERE pii_masked_at IS NULL
                 AND state IN ('done', 'ignored', 'failed')"""
        )
        return res

    def action_retry(self):
        masked = self.filtered(lambda m: m.pii_masked_count)
        if masked:
            raise UserError(
                _(
                    "The personal data of %(messages)s was masked after its "
                    "retention period: processing it again would import masked "
                    "names and addresses. Ask the channel to send it again.",
                    messages=", ".join(masked.mapped("display_name")),
                )
            )
        return super().action_retry()

    @api.model
    def _cron_mask_pii(self, batch=pii_retention.BATCH):
        """Mask the personal data of processed messages (done, ignored), and
        of failed ones past their data class's retention, one batch per
        transaction; the cron runs again at once while batches are full.
        Messages still waiting (received, queued, processing) are left whole:
        they are yet to be imported."""
        cutoff = pii_retention.cutoff_sql(
            "COALESCE(e.data_classification, b.data_classification)"
        )

        def mask(row):
            message_id, body, provider, topic = row
            masked, count = pii.mask_json(body, pii.field_list(provider, topic))
            return message_id, (masked,), count

        return pii_retention.mask_batch(
            self,
            batch,
            f"""
            SELECT m.id, m.body, b.provider, m.topic
              FROM retail_inbound_message m
              JOIN retail_backend b ON b.id = m.backend_id
              LEFT JOIN retail_webhook_endpoint e ON e.id = m.endpoint_id
             WHERE m.pii_masked_at IS NULL
               AND m.state IN ('done', 'ignored', 'failed')
               AND (m.state IN ('done', 'ignored')
                    OR (m.state = 'failed' AND m.received_at < {cutoff}))
             ORDER BY m.id
             LIMIT %(batch)s
               FOR UPDATE OF m SKIP LOCKED
            """,
            mask,
            """
            UPDATE retail_inbound_message m
               SET body = v.body, pii_masked_count = v.n, pii_masked_at = %s
              FROM unnest(%s::int[], %s::text[], %s::int[]) AS v(id, body, n)
             WHERE m.id = v.id
            """,
            "retail_integration_governance.ir_cron_mask_inbound_pii",
        )
