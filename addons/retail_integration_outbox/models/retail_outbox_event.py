import json
import logging
import uuid

from odoo import api, fields, models

from ..lib import events as ev
from ..lib import payloads, refusals, routing

_logger = logging.getLogger(__name__)

PENDING_KEY = "retail_outbox.captured"

# One statement per event: the aggregate's sequence (and, for a state event,
# the digest of its last value: an equal value writes nothing), the event, and
# its deliveries (each in its subscription's version). A coalescing type first
# points a pending (or failed, waiting for its retry) delivery of the same
# state at the newer event; only the subscriptions without one get a new
# delivery. Rows a dispatcher holds are
# skipped: the value it is sending is already stale, so a new delivery follows
# it. The lookup reads retail_outbox_delivery_aggregate in its own order
# (newest sequence first, LIMIT 1), which does not depend on the table's size
# or its planner statistics. It returns (event id, sequence), or no row when a
# state event repeats the aggregate's last value.
INSERT_EVENT = """
WITH seq AS (
    INSERT INTO retail_outbox_aggregate AS a (key, last_sequence, last_digest)
    VALUES (%(key)s, 1, %(digest)s)
    ON CONFLICT (key) DO UPDATE
        SET last_sequence = a.last_sequence + 1, last_digest = EXCLUDED.last_digest
        WHERE EXCLUDED.last_digest IS NULL
           OR a.last_digest IS DISTINCT FROM EXCLUDED.last_digest
    RETURNING last_sequence
), event AS (
    INSERT INTO retail_outbox_event
        (uuid, event_type, aggregate_model, aggregate_id, aggregate_key, sequence,
         version, payload, extra_payloads, occurred_at, company_id, correlation_id,
         create_uid, create_date, write_uid, write_date)
    SELECT %(uuid)s, %(type)s, %(model)s, %(res_id)s, %(key)s, seq.last_sequence,
           %(version)s, %(payload)s, %(extra)s, %(now)s, %(company)s, %(correlation)s,
           %(uid)s, %(now)s, %(uid)s, %(now)s
    FROM seq
    RETURNING id, sequence
), target AS (
    SELECT t.sub, t.backend, t.version, event.id AS event, event.sequence, (
        SELECT d.id FROM retail_outbox_delivery d
         WHERE %(coalesce)s
           AND d.subscription_id = t.sub AND d.aggregate_key = %(key)s
           AND d.state IN ('pending', 'failed')
         ORDER BY d.sequence DESC
         LIMIT 1
         FOR UPDATE SKIP LOCKED) AS coalesce_into
    FROM event, unnest(%(subs)s::int[], %(backends)s::int[], %(versions)s::int[])
         AS t(sub, backend, version)
), coalesced AS (
    UPDATE retail_outbox_delivery d
       SET event_id = target.event, sequence = target.sequence,
           version = target.version, coalesced_count = d.coalesced_count + 1,
           write_uid = %(uid)s, write_date = %(now)s
      FROM target
     WHERE d.id = target.coalesce_into
    RETURNING d.id
), fresh AS (
    INSERT INTO retail_outbox_delivery
        (event_id, subscription_id, backend_id, company_id, event_type, aggregate_key,
         sequence, version, state, attempts, next_attempt, replay_count,
         coalesced_count, reported, create_uid, create_date, write_uid, write_date)
    SELECT target.event, target.sub, target.backend, %(company)s, %(type)s, %(key)s,
           target.sequence, target.version, 'pending', 0, %(now)s, 0,
           0, false,
           %(uid)s, %(now)s, %(uid)s, %(now)s
      FROM target
     WHERE target.coalesce_into IS NULL
    RETURNING id
)
SELECT id, sequence, (SELECT count(*) FROM coalesced) FROM event
"""


class RetailOutboxEvent(models.Model):
    """A business change as channels see it, written in the change's transaction."""

    _name = "retail.outbox.event"
    _description = "Outbox Event"
    _order = "id desc"
    _rec_name = "uuid"

    uuid = fields.Char(
        "Event ID",
        required=True,
        readonly=True,
        help="Sent as webhook-id: the same on every retry and replay.",
    )
    event_type = fields.Selection(
        selection="_event_type_selection", required=True, readonly=True, index=True
    )
    aggregate_model = fields.Char(readonly=True)
    aggregate_id = fields.Many2oneReference(
        readonly=True, model_field="aggregate_model"
    )
    aggregate_key = fields.Char(readonly=True, index=True)
    sequence = fields.Integer(
        readonly=True, help="Position of this event among the events of its aggregate."
    )
    version = fields.Integer(
        readonly=True, default=1, help="The version of the type's data in Payload."
    )
    payload = fields.Json("Payload Data", readonly=True)
    extra_payloads = fields.Json(
        "Other Versions",
        readonly=True,
        help='The data in the other versions some subscription takes: {"2": {...}}.',
    )
    payload_text = fields.Text("Payload", compute="_compute_payload_text")
    occurred_at = fields.Datetime(readonly=True, index=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    correlation_id = fields.Char(readonly=True, index=True)
    delivery_ids = fields.One2many("retail.outbox.delivery", "event_id", readonly=True)

    _sql_constraints = [("uuid_uniq", "unique(uuid)", "Event ids are unique.")]

    @api.model
    def _event_type_selection(self):
        return self.env["retail.outbox.event.type"]._selection()

    @api.depends("payload")
    def _compute_payload_text(self):
        for event in self:
            event.payload_text = json.dumps(event._envelope(), indent=2, sort_keys=True)

    def _data(self, version=None):
        """The event's data in ``version`` (None: the event's own version)."""
        self.ensure_one()
        if version is None or version == self.version:
            return self.payload
        return self.extra_payloads[str(version)]

    def _envelope(self, version=None):
        """What a receiver gets, in ``version`` (None: the event's own)."""
        self.ensure_one()
        occurred = self.occurred_at
        return ev.envelope(
            uuid=self.uuid,
            event_type=self.event_type,
            occurred_at=occurred.isoformat(timespec="seconds") + "Z"
            if occurred
            else None,
            company_id=self.company_id.id,
            correlation_id=self.correlation_id,
            model=self.aggregate_model,
            res_id=self.aggregate_id,
            key=self.aggregate_key,
            sequence=self.sequence,
            data=self._data(version),
            version=version or self.version,
        )

    def _body(self, version=None):
        return ev.canonical_json(self._envelope(version))

    def action_open_aggregate(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.aggregate_model,
            "res_id": self.aggregate_id,
            "views": [(False, "form")],
        }

    # Capture -------------------------------------------------------------

    @api.model
    def _capture(self, event_type, records, scope=None, before=None):
        """Record that ``records`` changed in a way ``event_type`` reports.

        Nothing is written now: the event is built from the records' state
        when the transaction is about to commit, once per (type, record,
        scope) however often it changed. ``scope`` is ``(model, id)`` for a
        value per scope (a warehouse's stock); ``before`` maps record ids to
        the data they had before the change, to drop changes that alter
        nothing. Only types some active subscription wants are recorded.
        """
        if (
            not records
            or event_type not in self.env["retail.event.subscription"]._routes()
        ):
            return
        data = self.env.cr.precommit.data
        pending = data.get(PENDING_KEY)
        if pending is None:
            pending = data[PENDING_KEY] = {}
            self.env.cr.precommit.add(self._flush_captured)
        for record in records:
            key = (event_type, record._name, record.id, scope)
            if key not in pending:
                previous = before.get(record.id) if before else None
                pending[key] = ev.digest(previous) if previous is not None else None

    @api.model
    def _flush_captured(self):
        pending = self.env.cr.precommit.data.pop(PENDING_KEY, None)
        if not pending:
            return
        # sudo: events are written for whoever's change caused them; no user may write
        # them
        self = self.sudo()
        routes = self.env["retail.event.subscription"]._routes()
        specs = self.env["retail.outbox.event.type"]._specs()
        # The flow that caused the change, else the flow the record belongs to
        # (an order imported from a channel), else a new one.
        in_context = self.env.context.get("retail_correlation_id")
        new_flow = str(uuid.uuid4())
        # Which captured records still exist: one query per model.
        ids_by_model = {}
        for _type, model, res_id, _scope in pending:
            ids_by_model.setdefault(model, set()).add(res_id)
        alive = {
            model: set(self.env[model].browse(ids).exists().ids)
            for model, ids in ids_by_model.items()
        }
        to_dispatch = set()
        for (event_type, model, res_id, scope), before in pending.items():
            spec = specs.get(event_type)
            if not spec or res_id not in alive[model]:
                continue
            record = self.env[model].browse(res_id)
            data = payloads.build(event_type, spec.default_version, record, scope)
            if data is None or (before is not None and ev.digest(data) == before):
                continue
            company = _owner_company(record, scope)
            subscriptions = [
                sub
                for sub in routes.get(event_type, ())
                if (not company or sub.company_id == company.id)
                and routing.matches(sub.scope, scope)
            ]
            if not subscriptions:
                continue
            correlation = in_context or new_flow
            if not in_context and "retail_correlation_id" in record._fields:
                correlation = record._retail_correlation_id() or new_flow
            # The data in the other versions the subscriptions take.
            extra = {
                str(version): payloads.build(event_type, version, record, scope)
                for version in {sub.version for sub in subscriptions}
                if version != spec.default_version
            }
            written = self._insert(
                event_type,
                record,
                scope,
                spec,
                data,
                extra,
                company,
                correlation,
                subscriptions,
            )
            if written:
                to_dispatch.update(sub.id for sub in subscriptions)
        if to_dispatch:
            self.env["retail.event.subscription"].browse(
                sorted(to_dispatch)
            )._enqueue_dispatch()
            # Precommit hooks run after the transaction's flush.
            self.env.flush_all()

    def _insert(
        self,
        event_type,
        record,
        scope,
        spec,
        data,
        extra,
        company,
        correlation,
        routes,
    ):
        """Write one event and its deliveries to ``routes`` (one statement):
        ``data`` in the type's default version (``spec``: its ``TypeSpec``),
        ``extra`` ({"2": data, ...}) in the other versions the routes take.
        Return (id, key, sequence), or None if a state event repeats the
        aggregate's last value."""
        key = ev.aggregate_key(record._name, record.id, scope)
        digest = None
        if spec.reports_state:
            digest = ev.digest([data, extra] if extra else data)
        row = self._write_event(
            {
                "key": key,
                "digest": digest,
                "uuid": str(uuid.uuid4()),
                "type": event_type,
                "model": record._name,
                "res_id": record.id,
                "version": spec.default_version,
                "payload": json.dumps(data, default=str),
                "extra": json.dumps(extra, default=str) if extra else None,
                "now": fields.Datetime.now(),
                "company": (company or self.env.company).id,
                "correlation": correlation,
                "uid": self.env.uid,
                "coalesce": spec.coalesce,
                "subs": [sub.id for sub in routes],
                "backends": [sub.backend_id for sub in routes],
                "versions": [sub.version for sub in routes],
            },
        )
        if not row:
            return None
        if row[2]:
            self.env["retail.outbox.delivery"].invalidate_model(
                ["event_id", "sequence", "version", "coalesced_count"]
            )
        return row[0], key, row[1]

    def _write_event(self, params):
        """Run INSERT_EVENT; its row. A pending delivery it would coalesce
        into but that changed after this transaction began (sent, or
        coalesced into by another capture) cannot be locked here: PostgreSQL
        refuses with a serialization failure. The event then gets deliveries
        of its own, rather than failing the business change."""
        cr = self.env.cr
        if params["coalesce"]:
            rows = refusals.rows_unless_refused(cr, INSERT_EVENT, params)
            if rows is not None:
                return rows[0] if rows else None
            params = dict(params, coalesce=False)
        cr.execute(INSERT_EVENT, params)
        return cr.fetchone()


def _owner_company(record, scope):
    """The company whose subscriptions get events about ``record``: the
    scope's (a warehouse's, a pricelist's), else the record's; empty: every
    company's."""
    owner = record.env[scope[0]].browse(scope[1]) if scope else record
    if "company_id" not in owner._fields:
        return None
    return owner.company_id
