import json
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib import pii
from . import pii_retention

_logger = logging.getLogger(__name__)


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
        self.env.flush_all()
        params = pii_retention.cutoffs(self.env)
        params["batch"] = batch
        cr = self.env.cr
        cutoff = pii_retention.cutoff_sql("s.data_classification")
        cr.execute(
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
            params,
        )
        rows = cr.fetchall()
        spec = pii.FIELD_LISTS["outbox"]
        ids, payloads, extras, counts = [], [], [], []
        for event_id, payload, extra in rows:
            masked, count = spec.mask(payload)
            masked_extra, extra_count = spec.mask(extra)
            ids.append(event_id)
            payloads.append(None if masked is None else json.dumps(masked))
            extras.append(None if masked_extra is None else json.dumps(masked_extra))
            counts.append(count + extra_count)
        if ids:
            cr.execute(
                """
                UPDATE retail_outbox_event e
                   SET payload = v.payload::jsonb,
                       extra_payloads = v.extra::jsonb,
                       pii_masked_count = v.n, pii_masked_at = %s
                  FROM unnest(%s::int[], %s::text[], %s::text[], %s::int[])
                       AS v(id, payload, extra, n)
                 WHERE e.id = v.id
                """,
                [fields.Datetime.now(), ids, payloads, extras, counts],
            )
            self.invalidate_model(
                ["payload", "extra_payloads", "pii_masked_count", "pii_masked_at"]
            )
        if len(ids) == batch:
            self.env.ref(
                "retail_integration_governance.ir_cron_mask_outbox_pii"
            )._trigger()
        _logger.info(
            "PII masking: %s outbox events checked, %s values masked",
            len(ids),
            sum(counts),
        )
        return len(ids), sum(counts)


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
