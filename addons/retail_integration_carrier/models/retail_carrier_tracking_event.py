from odoo import api, fields, models

from ..lib import tracking


class RetailCarrierTrackingEvent(models.Model):
    """One tracking event of a package, as its carrier reported it (once,
    however often it was reported)."""

    _name = "retail.carrier.tracking.event"
    _description = "Carrier Tracking Event"
    _order = "occurred_at desc, id desc"

    shipment_id = fields.Many2one(
        "retail.carrier.shipment", required=True, ondelete="cascade", index=True
    )
    picking_id = fields.Many2one(
        related="shipment_id.picking_id", store=True, index=True
    )
    company_id = fields.Many2one(related="shipment_id.company_id", store=True)
    tracking_number = fields.Char(related="shipment_id.tracking_number")
    status = fields.Selection(tracking.STATUSES, required=True)
    occurred_at = fields.Datetime(required=True)
    location = fields.Char()
    message = fields.Char("Carrier Message")
    key = fields.Char(required=True)

    _sql_constraints = [
        (
            "key_uniq",
            "unique(shipment_id, key)",
            "A tracking event is recorded once per shipment.",
        ),
    ]

    @api.model
    def _add(self, shipment, events):
        """Record ``events`` (TrackingEvent) of ``shipment`` that are new;
        how many were."""
        if not events:
            return 0
        rows = {tracking.event_key(e): e for e in events}
        self.flush_model()
        self.env.cr.execute(
            """
            INSERT INTO retail_carrier_tracking_event
                (shipment_id, picking_id, company_id, status, occurred_at, location,
                 message, key, create_uid, create_date, write_uid, write_date)
            SELECT %(shipment)s, %(picking)s, %(company)s, e.status, e.occurred_at,
                   e.location, e.message, e.key, %(uid)s, now() at time zone 'UTC',
                   %(uid)s, now() at time zone 'UTC'
              FROM unnest(%(statuses)s::varchar[], %(moments)s::timestamp[],
                          %(locations)s::varchar[], %(messages)s::varchar[],
                          %(keys)s::varchar[])
                   AS e(status, occurred_at, location, message, key)
            ON CONFLICT (shipment_id, key) DO NOTHING
            RETURNING id
            """,
            {
                "shipment": shipment.id,
                "picking": shipment.picking_id.id,
                "company": shipment.company_id.id,
                "uid": self.env.uid,
                "statuses": [e.status for e in rows.values()],
                "moments": [e.occurred_at for e in rows.values()],
                "locations": [e.location or None for e in rows.values()],
                "messages": [e.message or None for e in rows.values()],
                "keys": list(rows),
            },
        )
        added = len(self.env.cr.fetchall())
        if added:
            shipment.invalidate_recordset(["event_ids"])
            shipment.picking_id.invalidate_recordset(["retail_tracking_event_ids"])
        return added
