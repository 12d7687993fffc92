import dataclasses
import time
from datetime import datetime, timedelta

import requests
from psycopg2.errors import LockNotAvailable

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import config

from ..lib import circuit, refusals, retry, ssrf, transports
from ..lib.events import excerpt
from ..transports.webhook import allow_private_urls
from .retail_outbox_delivery import NEXT_DUE

# One keep-alive session per subscription and worker process, reused by every
# dispatch job that process runs.
_SESSIONS = {}

DISPATCH_SECONDS = 10  # a dispatch job re-enqueues itself after this long
# A job that finds the subscription taken looks again after this long.
LOCK_RETRY_SECONDS = 1
# A run that sent nothing waits this long, at most, for the transactions
# still writing deliveries of its subscription (``_captures_done``).
CAPTURE_WAIT = "200ms"
# A run asked for within this many seconds is a look soon, not a wake-up later.
SOON_SECONDS = 5


def _config_int(name, default):
    return int(config.get(name) or default)


class RetailEventSubscription(models.Model):
    """The dispatch job: claim due deliveries in order, hand them to the
    subscription's transport (lib/transports.py), record each outcome and
    apply it to the circuit (lib/circuit.py), schedule the next run."""

    _inherit = "retail.event.subscription"

    # Dispatch -------------------------------------------------------------

    def _enqueue_dispatch(self, eta=None):
        """One dispatch job per subscription waits to run now, one soon (an
        ``eta`` a few seconds ahead: the next look of a run) and one later (a
        retry, a probe): a wake-up an hour ahead does not stand for a look in
        a second. Capture calls this in every transaction that writes events:
        the subscriptions whose job is already waiting are found in one query
        and left alone, as queue_job's identity_key would.

        The waiting jobs found are locked (KEY SHARE, which their runner's
        updates do not wait for) until this transaction ends. One that has
        started since this transaction began cannot be locked (PostgreSQL
        refuses with a serialization failure): its run may not see what this
        transaction writes, so jobs are queued anyway, without identity key
        (queue_job would find the started one waiting in this snapshot)."""
        if not eta:
            suffix = ""
        elif eta <= fields.Datetime.now() + timedelta(seconds=SOON_SECONDS):
            suffix = ":soon"
        else:
            suffix = ":later"
        keys = {
            sub_id: f"retail_outbox_dispatch:{sub_id}{suffix}" for sub_id in self.ids
        }
        if not keys:
            return
        self.env["queue.job"].flush_model(["identity_key", "state"])
        rows = refusals.rows_unless_refused(
            self.env.cr,
            """SELECT identity_key FROM queue_job
                WHERE identity_key = ANY(%s) AND identity_key IS NOT NULL
                  AND state IN ('wait_dependencies', 'pending', 'enqueued')
                FOR KEY SHARE""",
            [list(keys.values())],
        )
        started_since = rows is None
        waiting = {row[0] for row in rows or ()}
        for sub in self:
            if keys[sub.id] in waiting:
                continue
            sub.backend_id._with_delay(
                sub,
                eta=eta,
                identity_key=None if started_since else keys[sub.id],
                description=_("Outbox: deliver to %(name)s", name=sub.name),
            )._dispatch()

    def _lock(self):
        """Take this subscription for the transaction; False if a dispatcher has it.

        NO KEY UPDATE, not UPDATE: a business transaction inserting a
        delivery takes KEY SHARE on its subscription (the foreign key), which
        FOR UPDATE would block for the whole run, and fail with a
        serialization error once the run commits."""
        self.env.cr.execute(
            "SELECT id FROM retail_event_subscription WHERE id = %s "
            "FOR NO KEY UPDATE SKIP LOCKED",
            [self.id],
        )
        return bool(self.env.cr.fetchone())

    def _session(self):
        session = _SESSIONS.get(self.id)
        if session is None:
            session = _SESSIONS[self.id] = requests.Session()
            # No proxy from the environment: it would bypass the SSRF guard,
            # and looking it up costs more than a local POST.
            session.trust_env = False
            # Every new connection checks the addresses it connects to: the
            # name is not resolved again after the check (DNS rebinding).
            adapter = ssrf.GuardedAdapter(allow_private_urls)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        return session

    def _dispatch(self):
        """Job: send this subscription's due deliveries in batches on one
        keep-alive connection, then schedule the next run. Returns a summary."""
        self.ensure_one()
        # sudo: the dispatch job reads the subscription's secret and writes its state,
        # whoever queued it
        sub = self.sudo()
        if not sub.active or sub.backend_id.state != "active":
            return "inactive"
        if sub.state == "stopped":
            return "stopped: waits for Resume"
        if not sub._lock():
            # The holder looks for deliveries committed after it began before
            # it ends (``_schedule_next``): this job's are not left behind,
            # unless the holder died (a node killed). A look a few seconds
            # later (one waiting job at most: the ``:later`` identity key)
            # finds the subscription free once PostgreSQL has ended the dead
            # holder's transaction, instead of the per-minute cron.
            sub._enqueue_dispatch(
                eta=fields.Datetime.now() + timedelta(seconds=LOCK_RETRY_SECONDS)
            )
            return "another dispatcher is running"
        seen = sub._last_delivery_id()
        later = sub._resume_at()
        if later:
            sub._enqueue_dispatch(eta=later)
            return f"{'held' if later == sub.hold_until else 'paused'} until {later}"
        if sub.hold_until:
            sub.hold_until = False  # over
        probing = sub.state == "paused"
        policy = {
            "schedule": retry.parse_schedule(sub.retry_schedule),
            "jitter": sub.retry_jitter,
        }
        batch_size = 1 if probing else _config_int("retail_outbox_batch_size", 200)
        transport = sub._transport()
        secrets = transport.secrets(sub)
        session = sub._session()
        deadline = time.monotonic() + DISPATCH_SECONDS
        # sudo: as above: the subscription's deliveries
        Delivery = self.env["retail.outbox.delivery"].sudo()
        sent = 0
        stop = stale = False
        while not stop:
            deliveries = Delivery._claim(sub, batch_size)
            stale = deliveries is None
            if not deliveries:
                break
            refusal = transport.refusal(sub, secrets)
            if refusal:
                reason, cause, key = refusal
                sub._refuse(deliveries, cause, key)
                return f"refused: {reason}"
            handled = sub._deliver(deliveries, session, secrets)
            delivered = []  # written in one statement after the batch
            try:
                for delivery, outcome, attempt in handled:
                    sub._record(delivery, outcome, attempt, policy, probing, delivered)
                    sent += 1
                    # A probe is one delivery; a circuit that opens or a stop
                    # ends the run.
                    stop = (
                        probing
                        or sub.state in ("paused", "stopped")
                        or time.monotonic() > deadline
                    )
                    if stop:
                        break
            finally:
                handled.close()
                Delivery._mark_delivered_many(delivered)
            deliveries._release()
            # So does a receiver's Retry-After, once the batch's results are
            # recorded (``_deliver`` sent no more webhooks after it).
            stop = stop or bool(sub._resume_at())
        # What this run could not claim goes on in a new transaction.
        more = stale or (stop and time.monotonic() > deadline)
        sub._schedule_next(sent, more, seen)
        return f"{sent} sent, state {sub.state}"

    def _transport(self):
        """The transport of this subscription's delivery mode
        (lib/transports.py); the default one for a mode a module delivers by
        overriding ``_deliver``."""
        return transports.get(self.delivery_mode) or transports.DEFAULT

    def _target(self):
        """Where deliveries go, for messages: the URL, or the delivery mode."""
        target = self._transport().target(self)
        if target:
            return target
        modes = dict(self._fields["delivery_mode"]._description_selection(self.env))
        return modes.get(self.delivery_mode, self.delivery_mode)

    def _deliver(self, deliveries, session, secrets):
        """Send ``deliveries`` (claimed, in order) through the transport of
        this subscription's delivery mode; yield ``(delivery, outcome,
        attempt_vals)`` for each one handled, in that order.

        ``outcome`` is a ``lib.retry.Outcome``; ``attempt_vals`` holds
        attempts, last_attempt, last_status_code, response_excerpt and
        latency_ms. The dispatcher records each outcome as it is yielded and
        may stop early (probe, circuit opened, deadline): it then closes the
        generator, and the deliveries not yielded go back to the queue.
        ``session`` is the subscription's keep-alive ``requests.Session``,
        ``secrets`` what the transport's ``secrets()`` gave for the run.

        A module adds a delivery mode by registering a transport; overriding
        this method for its mode (and calling ``super()`` for the others)
        works too.
        """
        transport = transports.get(self.delivery_mode)
        if not transport:
            raise UserError(
                _(
                    "%(name)s: no module delivers in mode %(mode)s.",
                    name=self.name,
                    mode=self.delivery_mode,
                )
            )
        yield from transport.deliver(self, deliveries, session, secrets)

    def _last_delivery_id(self):
        """The newest delivery of this subscription this transaction sees."""
        self.env.cr.execute(
            "SELECT max(id) FROM retail_outbox_delivery WHERE subscription_id = %s",
            [self.id],
        )
        return self.env.cr.fetchone()[0] or 0

    def _committed_since(self, seen):
        """Whether due deliveries newer than ``seen`` were committed after this
        transaction began (it cannot see them): a capture that found this
        job running, or whose own job found the lock taken. Looked up in a
        transaction of its own.

        Ids are taken when a delivery is written, not when it commits: one
        written before ``seen`` and committed after this transaction began
        is not found here, but by ``_next_due`` after a run that sent
        nothing."""
        with self.env.registry.cursor() as cr:
            cr.execute(
                """SELECT EXISTS(
                       SELECT 1 FROM retail_outbox_delivery
                        WHERE subscription_id = %s AND id > %s
                          AND state IN ('pending', 'failed') AND next_attempt <= %s)""",
                [self.id, seen, fields.Datetime.now()],
            )
            return cr.fetchone()[0]

    def _next_due(self):
        """When this subscription's next sendable delivery is due, as
        committed now (a transaction of its own): what this run could see
        and what was committed after it began. Only after a run that sent
        nothing, whose own writes it would not see."""
        with self.env.registry.cursor() as cr:
            cr.execute(NEXT_DUE, {"sub": self.id})
            row = cr.fetchone()
            return row and row[0]

    def _captures_done(self):
        """Whether no transaction is writing deliveries of this subscription,
        after waiting up to ``CAPTURE_WAIT`` for those that are.

        A capture whose snapshot saw this job still waiting queued no job of
        its own; if it commits after this run began, its deliveries would
        wait for the outbox's cron. Each such transaction holds KEY SHARE on
        the subscription's row (its deliveries' foreign key), which FOR
        UPDATE waits for: once this run has the row, they have committed (or
        rolled back), and ``_next_due`` sees what they wrote."""
        cr = self.env.cr
        try:
            with cr.savepoint(flush=False):
                cr.execute("SET LOCAL lock_timeout = %s", [CAPTURE_WAIT])
                cr.execute(
                    "SELECT id FROM retail_event_subscription WHERE id = %s FOR UPDATE",
                    [self.id],
                    log_exceptions=False,
                )
                cr.execute("SET LOCAL lock_timeout = DEFAULT")
        except LockNotAvailable:
            return False
        return True

    def _resume_at(self):
        """When this subscription may send again, if not now: the next probe
        of a paused one, or the end of its receiver's Retry-After, whichever
        is later. False if it may send now."""
        now = fields.Datetime.now()
        times = (self.hold_until, self.state == "paused" and self.probe_at)
        return max((t for t in times if t and t > now), default=False)

    def _schedule_next(self, sent, more, seen):
        """Leave the run that comes after this one. ``seen``: the newest
        delivery this run's transaction saw when it began."""
        if not self.active or self.state == "stopped":
            return
        later = self._resume_at()
        if later:
            self._enqueue_dispatch(eta=later)
        elif more or self._committed_since(seen):
            # Work this run could not see: the next run starts once this one
            # commits (and releases the subscription).
            self._enqueue_dispatch()
        elif sent:
            # A capture committed between the look above and this run's
            # commit may have found the lock taken: look again shortly.
            self._enqueue_dispatch(eta=fields.Datetime.now() + timedelta(seconds=1))
        elif not self._captures_done():
            self._enqueue_dispatch(
                eta=fields.Datetime.now() + timedelta(seconds=LOCK_RETRY_SECONDS)
            )
        else:
            # At once if due (an eta past), within the hour; else the cron's.
            soonest = self._next_due()
            if soonest and soonest < datetime.utcnow() + timedelta(hours=1):
                self._enqueue_dispatch(eta=soonest)

    def _record(self, delivery, outcome, attempt, policy, probing, delivered=None):
        """Apply an attempt's outcome to the delivery, then to the circuit.

        A plain success is appended to ``delivered``, if given, for
        ``retail.outbox.delivery._mark_delivered_many``; it is written now
        otherwise."""
        # To the microsecond: fields.Datetime.now() is up to a second behind.
        now = datetime.now()
        # What a receiver or a connector answered goes into text columns:
        # made safe here, for every delivery mode.
        attempt = dict(
            attempt, response_excerpt=excerpt(attempt.get("response_excerpt"))
        )
        outcome = dataclasses.replace(outcome, reason=excerpt(outcome.reason))
        delivery._record_attempt(outcome, attempt, policy, probing, now, delivered)
        decision = circuit.after_attempt(
            circuit.Circuit(
                self.state,
                self.consecutive_failures,
                self.times_paused,
                self.hold_until or None,
            ),
            outcome,
            probing=probing,
            threshold=self.circuit_threshold,
            now=now,
        )
        if decision.changes:
            self.write(decision.changes)
        if decision.resolve:
            self.env["retail.sync.exception"]._resolve_for(
                self, _("The receiver answered again; delivery resumed.")
            )
        if decision.report == circuit.GONE:
            self._report(
                _(
                    "%(url)s answered 410 Gone: the receiver asks Odoo to stop "
                    "sending. Sending is stopped; the events that occur meanwhile "
                    "are kept for it, nothing is lost. Click Resume once the "
                    "receiver is back: the refused delivery and everything since "
                    "are sent, in order. Archive the subscription instead if it "
                    "should no longer get events.",
                    url=self._target(),
                ),
                key=circuit.GONE,
            )
        elif decision.report == circuit.OPENED:
            self._report(
                _(
                    "%(url)s failed %(count)s times in a row (last: %(reason)s). "
                    "Sending is paused; the receiver is probed with one delivery "
                    "from time to time and sending resumes when it answers. The "
                    "backlog is kept.",
                    url=self._target(),
                    count=self.consecutive_failures,
                    reason=outcome.reason,
                ),
                key=circuit.OPENED,
            )

    def _report(self, cause, key):
        self.env["retail.sync.exception"]._report(
            cause,
            name=_("Outbox subscription %(name)s paused", name=self.name),
            backend=self.backend_id,
            kind="delivery",
            source=self,
            key=key,
        )

    def _refuse(self, deliveries, cause, key):
        """Stop sending for a reason only a person can fix; keep the backlog
        (and queueing events for it)."""
        deliveries._release()
        self.write({"state": "stopped", "state_reason": cause})
        self.env["retail.sync.exception"]._report(
            cause,
            name=_("Outbox subscription %(name)s stopped", name=self.name),
            backend=self.backend_id,
            kind="configuration",
            source=self,
            key=key,
        )

    @api.model
    def _cron_dispatch_due(self):
        """Wake the subscriptions with due work no job is pending for: due
        deliveries (a paused one: a due probe), and no Retry-After holding."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT s.id FROM retail_event_subscription s
              JOIN retail_backend b ON b.id = s.backend_id AND b.state = 'active'
             WHERE s.active AND s.state != 'stopped'
               AND (s.state != 'paused' OR s.probe_at <= %(now)s)
               AND (s.hold_until IS NULL OR s.hold_until <= %(now)s)
               AND EXISTS (
                   SELECT 1 FROM retail_outbox_delivery d
                    WHERE d.subscription_id = s.id AND d.state IN ('pending', 'failed')
                      AND d.next_attempt <= %(now)s)
            """,
            {"now": fields.Datetime.now()},
        )
        self.browse([row[0] for row in self.env.cr.fetchall()])._enqueue_dispatch()
