import logging
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, config

from ..lib import refusals, retry

_logger = logging.getLogger(__name__)

# The deliveries of a subscription that may be sent once due: order per
# aggregate leaves out any whose aggregate has an earlier delivery still on
# its way. A dead delivery does not hold the others back (it waits for a
# person). The OFFSET 0 keeps the NOT EXISTS a per-row probe of
# retail_outbox_delivery_aggregate: as an anti-join, on a table without
# planner statistics yet (fresh, or just filled), PostgreSQL matched on the
# subscription alone, rows x rows (0.8 s for 200 of 2,000 due).
SENDABLE = """
       d.subscription_id = %(sub)s
       AND d.state IN ('pending', 'failed')
       AND NOT EXISTS (
           SELECT 1 FROM retail_outbox_delivery p
            WHERE p.subscription_id = d.subscription_id
              AND p.aggregate_key = d.aggregate_key
              AND p.sequence < d.sequence
              AND p.state IN ('pending', 'sending', 'failed')
           OFFSET 0)"""

# Sendable deliveries that are due, oldest first. The scan follows
# retail_outbox_delivery_claim and stops at the limit.
CLAIM = f"""
WITH claimed AS (
    SELECT d.id FROM retail_outbox_delivery d
     WHERE {SENDABLE}
       AND d.next_attempt <= %(now)s
     ORDER BY d.next_attempt, d.sequence, d.id
     LIMIT %(limit)s
     FOR UPDATE OF d SKIP LOCKED)
UPDATE retail_outbox_delivery t SET state = 'sending'
  FROM claimed
 WHERE t.id = claimed.id
RETURNING t.id
"""

# When the next sendable delivery is due: a blocked one is sent after the
# one it waits behind, whose own time counts. Walks the claim's index.
NEXT_DUE = f"""
SELECT d.next_attempt FROM retail_outbox_delivery d
 WHERE {SENDABLE}
 ORDER BY d.next_attempt, d.sequence, d.id
 LIMIT 1
"""

# The results of a batch of delivered deliveries, in one statement.
MARK_DELIVERED = """
UPDATE retail_outbox_delivery d
   SET state = 'delivered', attempts = v.attempts, last_attempt = v.last_attempt,
       last_status_code = v.status, response_excerpt = v.excerpt,
       latency_ms = v.latency, delivered_at = %s, last_error = NULL,
       reported = FALSE, write_uid = %s, write_date = %s
  FROM (VALUES %s) AS v(id, attempts, last_attempt, status, excerpt, latency)
 WHERE d.id = v.id
"""
DELIVERED_ROW = "(%s::int, %s::int, %s::timestamp, %s::int, %s::text, %s::int)"
DELIVERED_FIELDS = [
    "state",
    "attempts",
    "last_attempt",
    "last_status_code",
    "response_excerpt",
    "latency_ms",
    "delivered_at",
    "last_error",
    "reported",
    "write_uid",
    "write_date",
]


def _delivered_row(delivery, attempt):
    """A row of MARK_DELIVERED."""
    return (
        delivery.id,
        attempt["attempts"],
        attempt["last_attempt"],
        attempt["last_status_code"],
        attempt["response_excerpt"],
        attempt["latency_ms"],
    )


class RetailOutboxDelivery(models.Model):
    """One event on its way to one subscription."""

    _name = "retail.outbox.delivery"
    _description = "Outbox Delivery"
    _order = "id desc"
    _rec_name = "webhook_id"

    event_id = fields.Many2one(
        "retail.outbox.event",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    subscription_id = fields.Many2one(
        "retail.event.subscription",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    backend_id = fields.Many2one("retail.backend", readonly=True, ondelete="cascade")
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    webhook_id = fields.Char(related="event_id.uuid", string="Webhook ID")
    event_type = fields.Selection(selection="_event_type_selection", readonly=True)
    aggregate_key = fields.Char(readonly=True)
    sequence = fields.Integer(readonly=True)
    version = fields.Integer(
        readonly=True,
        default=1,
        help="The version of the event's data this delivery carries (its "
        "subscription's).",
    )
    occurred_at = fields.Datetime(related="event_id.occurred_at")
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("sending", "Sending"),
            ("delivered", "Delivered"),
            ("failed", "Failed"),
            ("dead", "Dead"),
        ],
        required=True,
        default="pending",
        readonly=True,
        index=True,
        help="Sending is seen only inside the dispatching transaction: if it dies, "
        "the delivery is pending again and is sent again (at least once).",
    )
    attempts = fields.Integer(readonly=True)
    next_attempt = fields.Datetime(readonly=True, default=fields.Datetime.now)
    last_attempt = fields.Datetime(readonly=True)
    delivered_at = fields.Datetime(readonly=True, index=True)
    last_status_code = fields.Integer("Last Status", readonly=True)
    last_error = fields.Char(readonly=True)
    response_excerpt = fields.Text(readonly=True)
    latency_ms = fields.Integer("Latency (ms)", readonly=True)
    replay_count = fields.Integer("Replays", readonly=True)
    coalesced_count = fields.Integer(
        "Merged Events",
        readonly=True,
        help="Newer values of the same state that replaced this delivery's event "
        "before it was sent.",
    )
    reported = fields.Boolean(
        readonly=True, help="An exception of the inbox is open for it."
    )
    payload_text = fields.Text(related="event_id.payload_text")

    def init(self):
        cr = self.env.cr
        cr.execute(
            """CREATE INDEX IF NOT EXISTS retail_outbox_delivery_claim
               ON retail_outbox_delivery (subscription_id, next_attempt, sequence, id)
               WHERE state IN ('pending', 'failed')"""
        )
        cr.execute(
            """CREATE INDEX IF NOT EXISTS retail_outbox_delivery_aggregate
               ON retail_outbox_delivery (subscription_id, aggregate_key, sequence)
               WHERE state IN ('pending', 'sending', 'failed')"""
        )

    @api.model
    def _claim(self, subscription, limit):
        """Up to ``limit`` due deliveries of ``subscription``, in order, taken
        for this transaction; None if one of them changed after it began (a
        capture coalesced a newer event into it): PostgreSQL refuses to lock
        it, and a run in a new transaction takes it."""
        self.env.flush_all()
        rows = refusals.rows_unless_refused(
            self.env.cr,
            CLAIM,
            {"sub": subscription.id, "now": fields.Datetime.now(), "limit": limit},
        )
        if rows is None:
            return None
        ids = [row[0] for row in rows]
        self.invalidate_model(["state"])
        deliveries = self.browse(ids)
        return deliveries.sorted(lambda d: (d.next_attempt, d.sequence, d.id))

    def _release(self):
        """Claimed deliveries the batch did not reach wait for the next run."""
        for delivery in self.filtered(lambda d: d.state == "sending"):
            delivery.state = "failed" if delivery.attempts else "pending"

    @api.model
    def _event_type_selection(self):
        return self.env["retail.outbox.event.type"]._selection()

    def _body(self):
        """The canonical JSON bytes the receiver gets, in this delivery's version."""
        return self.event_id._body(self.version)

    def _contract_headers(self, specs=None):
        """``Deprecation``/``Sunset`` headers when this delivery's version of
        its type is deprecated (``lib/versions.py``), else {}. ``specs``:
        the event types' ``_specs()``, when the caller has them at hand."""
        if specs is None:
            specs = self.env["retail.outbox.event.type"]._specs()
        spec = specs.get(self.event_type)
        return spec.headers.get(self.version, {}) if spec else {}

    def _record_attempt(self, outcome, attempt, policy, probing, now, delivered=None):
        """Apply an attempt's outcome to this delivery: delivered, failed until
        the schedule's next wait (or the receiver's Retry-After), or dead
        after the last attempt. ``now``: when it was answered. A plain
        success is appended to ``delivered``, if given, for
        ``_mark_delivered_many``; it is written now otherwise."""
        if outcome.kind == retry.DELIVERED:
            if delivered is not None and not self.reported:
                delivered.append((self, attempt))
            else:
                self._mark_delivered(attempt)
        elif outcome.kind == retry.GONE:
            self._mark_failed(outcome, attempt, now.replace(microsecond=0))
        elif probing:
            # The backlog does not age while the circuit is open.
            self._mark_failed(outcome, attempt, self.next_attempt, count=False)
        else:
            wait = retry.next_wait(
                outcome, policy["schedule"], self.attempts + 1, policy["jitter"]
            )
            if wait is None:
                self._mark_dead(outcome, attempt)
            else:
                self._mark_failed(outcome, attempt, retry.due_at(now, wait))

    @api.model
    def _mark_delivered_many(self, results):
        """``_mark_delivered`` for many deliveries at once: one UPDATE for
        ``[(delivery, attempt values), ...]`` of deliveries with no open
        exception, then the cache of what it wrote is dropped."""
        if not results:
            return
        self.env.flush_all()
        now = fields.Datetime.now()
        try:
            with self.env.cr.savepoint(flush=False):
                self._write_delivered([_delivered_row(*r) for r in results], now)
        except (ValueError, psycopg2.DataError):
            # A value the database refuses (``_record`` makes the answer safe;
            # a connector's other values may not be): each row on its own, and
            # one still refused without its answer. It was delivered all the
            # same: sending it again would duplicate it.
            _logger.warning("Outbox: a delivered batch is recorded row by row")
            for delivery, attempt in results:
                try:
                    with self.env.cr.savepoint(flush=False):
                        self._write_delivered([_delivered_row(delivery, attempt)], now)
                except (ValueError, psycopg2.DataError):
                    _logger.exception(
                        "Outbox: delivery %s is recorded without its answer",
                        delivery.id,
                    )
                    bare = (delivery.id, delivery.attempts + 1, now, None, None, None)
                    self._write_delivered([bare], now)
        self.browse([d.id for d, _a in results]).invalidate_recordset(DELIVERED_FIELDS)

    @api.model
    def _write_delivered(self, rows, now):
        values = SQL(", ").join(SQL(DELIVERED_ROW, *row) for row in rows)
        self.env.cr.execute(SQL(MARK_DELIVERED, now, self.env.uid, now, values))

    def _mark_delivered(self, attempt):
        reported = self.reported
        self.write(
            dict(
                attempt,
                state="delivered",
                delivered_at=fields.Datetime.now(),
                last_error=False,
                reported=False,
            )
        )
        if reported:
            self.env["retail.sync.exception"]._resolve_for(
                self, _("Delivered on attempt %(n)s.", n=self.attempts)
            )

    def _mark_failed(self, outcome, attempt, next_attempt, count=True):
        vals = dict(
            attempt,
            state="failed",
            next_attempt=next_attempt,
            last_error=outcome.reason,
        )
        if not count:
            vals["attempts"] = self.attempts
        self.write(vals)

    def _mark_dead(self, outcome, attempt):
        self.write(
            dict(attempt, state="dead", last_error=outcome.reason, reported=True)
        )
        event = self.event_id
        document = self.env[event.aggregate_model].browse(event.aggregate_id).exists()
        self.env["retail.sync.exception"]._report(
            _(
                "The %(type)s event %(id)s could not be delivered to %(url)s after "
                "%(n)s attempts (last: %(reason)s). Check the receiver, then retry.",
                type=event.event_type,
                id=self.webhook_id,
                url=self.subscription_id._target(),
                n=self.attempts,
                reason=outcome.reason,
            ),
            name=_(
                "Outbox delivery dead: %(type)s for %(sub)s",
                type=event.event_type,
                sub=self.subscription_id.name,
            ),
            backend=self.backend_id,
            kind="delivery",
            detail=self.response_excerpt,
            document=document or None,
            source=self,
            key="dead",
        )

    # Replay ---------------------------------------------------------------

    def action_replay(self):
        """Send again, as a new first attempt, with the same webhook-id."""
        self.check_access("read")
        # sudo: after the caller's read check: a replay writes what only the dispatcher
        # writes
        deliveries = self.sudo()
        if deliveries.filtered(lambda d: d.state == "sending"):
            raise UserError(
                _("A delivery being sent cannot be replayed; try again shortly.")
            )
        for delivery in deliveries:
            delivery.write(
                {
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt": fields.Datetime.now(),
                    "replay_count": delivery.replay_count + 1,
                    "last_error": False,
                }
            )
        deliveries.subscription_id._enqueue_dispatch()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _(
                    "%(n)s delivery(ies) queued to be sent again.", n=len(self)
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _retail_exception_retry(self):
        self.action_replay()

    @api.model
    def _replay_window(self, subscription, date_from, date_to, states=None):
        domain = [
            ("subscription_id", "=", subscription.id),
            ("event_id.occurred_at", ">=", date_from),
            ("event_id.occurred_at", "<=", date_to),
            ("state", "!=", "sending"),
        ]
        if states:
            domain.append(("state", "in", states))
        deliveries = self.search(domain)
        if deliveries:
            deliveries.action_replay()
        return deliveries

    # Retention ------------------------------------------------------------

    @api.model
    def _cron_clean(self, chunk=5000):
        """Delete delivered deliveries, and events with nothing left to send,
        older than retail_outbox_retention_days: one chunk per run, and the
        cron runs again at once while a chunk was full, so each transaction
        stays short and holds few locks under load."""
        days = int(config.get("retail_outbox_retention_days") or 30)
        params = {
            "cutoff": fields.Datetime.now() - timedelta(days=days),
            "chunk": chunk,
        }
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            """DELETE FROM retail_outbox_delivery WHERE id IN (
                   SELECT id FROM retail_outbox_delivery
                    WHERE state = 'delivered' AND delivered_at < %(cutoff)s
                    LIMIT %(chunk)s)""",
            params,
        )
        deliveries = cr.rowcount
        cr.execute(
            """DELETE FROM retail_outbox_event WHERE id IN (
                   SELECT e.id FROM retail_outbox_event e
                    WHERE e.occurred_at < %(cutoff)s AND NOT EXISTS (
                          SELECT 1 FROM retail_outbox_delivery d
                           WHERE d.event_id = e.id)
                    LIMIT %(chunk)s)""",
            params,
        )
        events = cr.rowcount
        self.invalidate_model()
        self.env["retail.outbox.event"].invalidate_model()
        if chunk in (deliveries, events):
            self.env.ref(
                "retail_integration_outbox.ir_cron_outbox_retention"
            )._trigger()
        _logger.info(
            "Outbox retention: %s deliveries and %s events removed", deliveries, events
        )
        return deliveries, events
