import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib import pii
from . import pii_retention


class RetailOutboxEvent(models.Model):
    _inherit = "retail.outbox.event"

    pii_masked_at = fields.Datetime(
        "Personal Data Masked",
        readonly=True,
        copy=False,
        help="When names, e-mails, phones and addresses were masked in the "
        "payload (its ids, totals and SKUs stay). Empty: not checked yet.",
    )
    pii_masked_count = fields.Integer("Values Masked", readonly=True, copy=False)

    def init(self):
        res = super().init()
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS retail_outbox_event_pii_todo
               ON retail_outbox_event (id) WHERE pii_masked_at IS NULL"""
        )
        return res

    @api.model
    def _cron_mask_pii(self, batch=pii_retention.BATCH):
        """Mask the personal data of events every delivery of which was
        delivered (or that had none), and of events whose undelivered ones
        are all dead past the retention of the strictest class among their
        subscriptions. An event with a delivery still to send is left whole:
        the receiver gets what happened."""
        cutoff = pii_retention.cutoff_sql("s.data_classification")
        spec = pii.FIELD_LISTS["outbox"]

        def mask(row):
            event_id, payload, extra = row
            masked, count = spec.mask(payload)
            masked_extra, extra_count = spec.mask(extra)
            return (
                event_id,
                tuple(
                    None if m is None else json.dumps(m) for m in (masked, masked_extra)
                ),
                count + extra_count,
            )

        return pii_retention.mask_batch(
            self,
            batch,
            f"""
            SELECT e.id, e.payload, e.extra_payloads
              FROM retail_outbox_event e
             WHERE e.pii_masked_at IS NULL
               AND NOT EXISTS (
                   SELECT 1 FROM retail_outbox_delivery d
                    WHERE d.event_id = e.id
                      AND d.state NOT IN ('delivered', 'dead'))
               AND NOT EXISTS (
                   SELECT 1 FROM retail_outbox_delivery d
                     JOIN retail_event_subscription s ON s.id = d.subscription_id
                    WHERE d.event_id = e.id AND d.state = 'dead'
                      AND e.occurred_at >= {cutoff})
             ORDER BY e.id
             LIMIT %(batch)s
               FOR UPDATE OF e SKIP LOCKED
            """,
            mask,
            """
            UPDATE retail_outbox_event e
               SET payload = v.payload::jsonb,
                   extra_payloads = v.extra::jsonb,
                   pii_masked_count = v.n, pii_masked_at = %s
              FROM unnest(%s::int[], %s::text[], %s::text[], %s::int[])
                   AS v(id, payload, extra, n)
             WHERE e.id = v.id
            """,
            "retail_integration_governance.ir_cron_mask_outbox_pii",
        )


class RetailOutboxDelivery(models.Model):
    _inherit = "retail.outbox.delivery"

    def action_replay(self):
        masked = self.event_id.filtered("pii_masked_count")
        if masked:
            raise UserError(
                _(
                    "The personal data of event(s) %(events)s was masked: "
                    "replaying them would send masked names and addresses.",
                    events=", ".join(masked.mapped("uuid")),
                )
            )
        return super().action_replay()
