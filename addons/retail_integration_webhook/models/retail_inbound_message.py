import json
import logging
import time
import traceback
from datetime import timedelta

import psycopg2
import requests
from psycopg2.errors import LockNotAvailable, SerializationFailure
from psycopg2.extensions import TransactionRollbackError
from psycopg2.extras import execute_values

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config

from odoo.addons.queue_job.delay import Delayable
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.utils import must_run_without_delay
from odoo.addons.retail_integration.lib import dead_jobs
from odoo.addons.retail_integration.lib.text import storable_tree

from ..lib import autocommit, drains

_logger = logging.getLogger(__name__)

# A message's row; RETURNING nothing for a duplicate or a tombstoned delivery
# id. No creating user: a channel sent it (and the accept path is spared two
# foreign-key checks).
INSERT_SQL = """
    INSERT INTO retail_inbound_message
        (endpoint_id, backend_id, company_id, topic, delivery_id,
         correlation_id, aggregate_key,
         received_at, body, body_hash, body_key, headers, state, attempts,
         create_date, write_date)
    SELECT %(endpoint)s, %(backend)s, %(company)s, %(topic)s, %(delivery_id)s,
           %(correlation_id)s, %(aggregate_key)s, %(now)s, %(body)s,
           %(body_hash)s, %(body_key)s, %(headers)s, %(state)s, 0,
           %(now)s, %(now)s
    WHERE NOT EXISTS (
        SELECT 1 FROM retail_inbound_tombstone
        WHERE endpoint_id = %(endpoint)s AND delivery_id = %(delivery_id)s::varchar)
    {condition}
    ON CONFLICT DO NOTHING
    RETURNING id, state
"""
ACCEPT_SQL = drains.ACCEPT_SQL.format(insert=INSERT_SQL.format(condition=""))
ACCEPT_ALONE_SQL = drains.ACCEPT_ALONE_SQL.format(
    insert=INSERT_SQL.format(condition=drains.ALONE_CONDITION)
)

MAX_ATTEMPTS = 8
# Seconds before the next attempt, from the attempt that failed on: 10 s,
# then 1 min, 5 min, 30 min.
RETRY_PATTERN = {1: 10, 3: 60, 5: 300, 7: 1800}
# Failures that may pass by themselves: the message is retried with backoff. A
# psycopg2.OperationalError is a lock or serialization conflict (or a lost
# connection).
TRANSIENT_ERRORS = (
    RetryableJobError,
    psycopg2.OperationalError,
    requests.ConnectionError,
    requests.Timeout,
)
# After a database conflict, as queue_job's own retry of such errors.
CONFLICT_RETRY_SECONDS = 5
GC_BATCH = 1000
UNFINISHED = ("received", "queued", "processing", "failed")
# A batch's outcomes, written in one statement (_write_outcomes).
_OUTCOME_COLUMNS = (
    "state", "attempts", "started_at", "processed_at", "duration_ms",
    "next_attempt_at", "result", "error", "error_detail", "exception_id", "log",
)  # fmt: skip
_OUTCOME_SQL = """
    UPDATE retail_inbound_message m SET
        state = v.state, attempts = v.attempts::int,
        started_at = v.started_at::timestamp,
        processed_at = v.processed_at::timestamp,
        duration_ms = v.duration_ms::int,
        next_attempt_at = v.next_attempt_at::timestamp,
        result = v.result, error = v.error, error_detail = v.error_detail,
        exception_id = COALESCE(v.exception_id::int, m.exception_id),
        attempt_log = concat_ws(E'\\n', m.attempt_log, v.log),
        write_uid = v.uid, write_date = now() AT TIME ZONE 'UTC'
    FROM (VALUES %s) AS v (id, uid, {columns})
    WHERE m.id = v.id
""".format(columns=", ".join(_OUTCOME_COLUMNS))


def _retry_delay(err, attempts):
    """Seconds before the next attempt after ``attempts``."""
    if isinstance(err, psycopg2.OperationalError):
        return CONFLICT_RETRY_SECONDS
    seconds = getattr(err, "seconds", None)  # a RetryableJobError may say
    return seconds or drains.retry_delay(attempts, RETRY_PATTERN)


class RetailInboundMessage(models.Model):
    """One webhook a channel posted, as received, and what processing made of it."""

    _name = "retail.inbound.message"
    _description = "Inbound Webhook Message"
    _inherit = ["mail.thread"]
    _order = "received_at desc, id desc"

    endpoint_id = fields.Many2one(
        "retail.webhook.endpoint", required=True, ondelete="cascade", readonly=True
    )
    backend_id = fields.Many2one(
        "retail.backend", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    topic = fields.Char(readonly=True, index=True)
    delivery_id = fields.Char(required=True, readonly=True)
    correlation_id = fields.Char(readonly=True, index=True)
    received_at = fields.Datetime(required=True, readonly=True, index=True)
    body = fields.Text(readonly=True)
    body_hash = fields.Char(readonly=True)
    body_key = fields.Char(
        readonly=True,
        copy=False,
        help="The body's digest while it counts for duplicates (schemes that sign "
        "no timestamp): unique per endpoint.",
    )
    headers = fields.Json("Headers (JSON)", readonly=True)
    headers_text = fields.Text("Headers", compute="_compute_headers_text")
    state = fields.Selection(
        [
            ("received", "Received"),
            ("queued", "Queued"),
            ("processing", "Processing"),
            ("done", "Done"),
            ("failed", "Failed"),
            ("ignored", "Ignored"),
        ],
        required=True,
        default="received",
        readonly=True,
        index=True,
        help="Received: stored, waiting for its backend to be active. Queued: waits "
        "for its backend's drain (at its next attempt's time after a transient "
        "failure). Ignored: no handler for its topic, or a topic the endpoint "
        "does not accept.",
    )
    attempts = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(
        "Next Attempt",
        readonly=True,
        copy=False,
        help="A queued message that failed for a reason that may pass is not "
        "processed before this time.",
    )
    aggregate_key = fields.Char(
        readonly=True,
        help="The document the message is about (an order, a SKU): the messages "
        "of one aggregate are processed one at a time, in arrival order.",
    )
    attempt_log = fields.Text(
        "Attempt Log", readonly=True, copy=False, help="One line per attempt."
    )
    started_at = fields.Datetime(readonly=True)
    processed_at = fields.Datetime(readonly=True)
    duration_ms = fields.Integer("Processing Time (ms)", readonly=True)
    result = fields.Char(readonly=True, help="What processing did, in plain words.")
    error = fields.Text("Cause", readonly=True)
    error_detail = fields.Text("Technical Detail", readonly=True)
    exception_id = fields.Many2one("retail.sync.exception", readonly=True, copy=False)
    res_model = fields.Char("Document Model", readonly=True)
    res_id = fields.Many2oneReference(
        "Document ID", model_field="res_model", readonly=True
    )

    _sql_constraints = [
        (
            "delivery_uniq",
            "unique(endpoint_id, delivery_id)",
            "This delivery was already received on this endpoint.",
        ),
    ]

    def init(self):
        # A body taken within the duplicate window: the INSERT's ON CONFLICT
        # decides it as it decides delivery ids, so concurrent twins can't both
        # pass. Partial: messages of signed-timestamp schemes have no key.
        self.env.cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS retail_inbound_message_body_key_uniq
               ON retail_inbound_message (endpoint_id, body_key)
               WHERE body_key IS NOT NULL"""
        )
        # The messages of a document (an order's smart button, a trace). Set
        # by processing, never by the accept path's INSERT, whose rows this
        # partial index does not hold.
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS retail_inbound_message_document
               ON retail_inbound_message (res_id, res_model)
               WHERE res_id IS NOT NULL"""
        )
        # The queue (lib/drains.py): a backend's queued messages in arrival
        # order, and its unfinished ones per aggregate. Partial: small, and
        # a message leaves them once processed.
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS retail_inbound_message_queue
               ON retail_inbound_message (backend_id, id) WHERE state = 'queued'"""
        )
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS retail_inbound_message_aggregate
               ON retail_inbound_message (backend_id, aggregate_key, id)
               WHERE aggregate_key IS NOT NULL
                 AND state IN ('queued', 'processing')"""
        )
        # One row per drain of a backend that exists (queued or running).
        self.env.cr.execute(
            """CREATE TABLE IF NOT EXISTS retail_inbound_drain (
                backend_id integer NOT NULL
                    REFERENCES retail_backend (id) ON DELETE CASCADE,
                slot integer NOT NULL,
                armed_at timestamp NOT NULL,
                job_uuid varchar,
                PRIMARY KEY (backend_id, slot)
            )"""
        )
        # The batch each drain is running, written outside its transaction:
        # what a drain that follows a killed one must run message by message.
        # Unlogged: a database crash is no message's fault.
        self.env.cr.execute(
            """CREATE UNLOGGED TABLE IF NOT EXISTS retail_inbound_drain_batch (
                backend_id integer NOT NULL,
                slot integer NOT NULL,
                batch_ids integer[],
                isolate_ids integer[],
                suspect_id integer,
                suspect_kills integer NOT NULL DEFAULT 0,
                PRIMARY KEY (backend_id, slot)
            )"""
        )

    @api.depends("topic", "delivery_id")
    def _compute_display_name(self):
        for message in self:
            message.display_name = f"{message.topic} · {message.delivery_id}"

    @api.depends("headers")
    def _compute_headers_text(self):
        for message in self:
            message.headers_text = json.dumps(
                message.headers or {}, indent=2, sort_keys=True
            )

    # Storing -------------------------------------------------------------------

    @api.model
    def _insert_once(self, endpoint, alone=False, **vals):
        """INSERT the message unless its delivery id (or its body key) is
        known, or its delivery id is among the tombstones of deleted messages;
        None if it is. A queued message is left to its backend's drain, which
        is queued in the same transaction if none exists (lib/drains.py).

        ``alone`` (the webhook route: nothing else in its transaction), where
        the backend's drain exists, the statement runs on the worker's own
        connection, prepared once, and commits at once. Otherwise, and in
        tests (whose records other connections cannot see), it runs in the
        caller's transaction:

        The unique indexes decide between concurrent twins, not a prior read.
        A twin (or a drain) committed after this request's snapshot was taken
        makes PostgreSQL refuse the statement with a serialization failure.
        ``alone``, the request has written nothing else: it is rolled back
        and the statement runs again in a new snapshot, where a twin is a
        duplicate. Otherwise the failure goes up, so that nothing the caller
        wrote is lost: Odoo runs the request again, queue_job the job.
        """
        params = self._insert_params(endpoint, vals)
        if alone and autocommit.serves(self.env):
            stored, has_drain = autocommit.execute(
                self.env.cr.dbname,
                ACCEPT_ALONE_SQL,
                params,
                prepared="retail_inbound_accept",
            )[0]
            if has_drain or vals["state"] != "queued":
                return stored and self.browse(stored)
        backend = endpoint.backend_id
        for attempt in range(3):
            try:
                self.env.cr.execute(ACCEPT_SQL, params, log_exceptions=False)
                message_id, has_drain = self.env.cr.fetchone()
                if message_id is None:
                    return None
                message = self.browse(message_id)
                if vals["state"] == "queued" and not has_drain:
                    message._arm_drain(backend, endpoint.job_channel)
                return message
            except SerializationFailure:
                if not alone or attempt == 2:
                    raise
                self.env.cr.rollback()
        return None

    @api.model
    def _insert_params(self, endpoint, vals):
        return {
            "endpoint": endpoint.id,
            "backend": endpoint.backend_id.id,
            "company": endpoint.company_id.id,
            "now": fields.Datetime.now(),
            "body_key": None,
            "aggregate_key": None,
            **vals,
            "headers": json.dumps(vals["headers"]),
        }

    @api.model
    def _aggregate_key(self, topic, payload):
        """The aggregate (an order, a SKU) a payload of ``topic`` is about, or
        None: the messages of one aggregate are processed one at a time, in
        arrival order (lib/drains.py). Connector modules extend this; called
        on the accept path, it must not read the database."""
        return None

    def _enqueue(self):
        """Queue these messages for their backends' drains, in this
        transaction; in queue_job's no-delay mode, process them now."""
        self.env.cr.execute(
            """UPDATE retail_inbound_message
               SET state = 'queued', next_attempt_at = NULL WHERE id = ANY(%s)""",
            [self.ids],
        )
        self.invalidate_recordset(["state", "next_attempt_at"])
        if must_run_without_delay(self.env):
            for message in self.sorted("id"):
                message._process()
            return
        self.backend_id._ensure_technical_user()
        for backend in self.backend_id:
            # A drain that exists is locked until this transaction ends: it
            # cannot end before seeing these messages.
            self.env.cr.execute(
                """SELECT 1 FROM retail_inbound_drain
                   WHERE backend_id = %s AND slot = 0 FOR KEY SHARE""",
                [backend.id],
            )
            if not self.env.cr.fetchone():
                self._arm_drain(backend, backend.job_channel)

    @api.model
    def _arm_drain(self, backend, channel, slot=0):
        """Queue a drain job of ``backend`` unless its flag exists, in this
        transaction, which has written the state of the messages it is for.
        A flag committed after this transaction's snapshot raises a
        serialization failure: the caller's transaction runs again."""
        if must_run_without_delay(self.env):
            self.browse(self._due_ids(backend)).sorted("id")._process_all()
            return False
        self.env.cr.execute(drains.ARM_SQL, [backend.id, slot], log_exceptions=False)
        if not self.env.cr.fetchone():
            return False
        job_uuid = self._delay_drain(backend, channel, slot)
        self.env.cr.execute(drains.OWN_SQL, [job_uuid, backend.id, slot])
        return True

    def _due_ids(self, backend):
        self.env.cr.execute(drains.DUE_SQL, {"backend": backend.id, "limit": None})
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _delay_drain(self, backend, channel, slot, eta=None):
        """Queue a drain job, run as the backend's technical user:
        the handlers have its rights and see its company only (the companies
        of whoever queued it are not kept: the user's own is the backend's).
        Its uuid."""
        backend._ensure_technical_user()
        context = dict(self.env.context)
        context.pop("allowed_company_ids", None)
        identity = None
        if eta:  # a wake-up: one per backend and time
            identity = f"retail-webhook-wake-{backend.id}-{slot}-{eta.isoformat()}"
        delayable = Delayable(
            backend.with_env(
                self.env(user=backend.technical_user_id, context=context, su=False)
            ),
            channel=channel,
            eta=eta,
            identity_key=identity,
            description=_("Process the webhooks of %(backend)s", backend=backend.name),
        )
        delayable._webhook_drain(slot)
        delayable.delay()
        return delayable._generated_job.uuid

    # Processing ----------------------------------------------------------------

    def _webhook_handlers(self):
        """Map (provider, topic) to a handler method name; provider "*" is any.

        Connector modules extend this. A handler takes the parsed payload,
        does its work idempotently and returns what it did in plain words.
        """
        return {
            ("*", "ping"): "_handle_ping",
            ("*", "test"): "_handle_ping",
            ("*", "webhook.test"): "_handle_ping",
        }

    def _webhook_batch_handlers(self):
        """Map (provider, topic) to a batch handler method name: it takes the
        messages of one topic (a recordset, in arrival order) and their
        payloads, and returns what it did for each, in plain words, in the
        same order. A batch that raises is run again message by message, so
        that each message gets its own outcome. Connector modules extend this
        for light and frequent topics (stock levels, POS tickets)."""
        return {}

    def _find_handler(self):
        handlers = self._webhook_handlers()
        name = handlers.get((self.backend_id.provider, self.topic)) or handlers.get(
            ("*", self.topic)
        )
        if name:
            return getattr(self, name)
        batch = self._find_batch_handler()
        return batch and (lambda payload: batch(self, [payload])[0])

    def _find_batch_handler(self):
        handlers = self._webhook_batch_handlers()
        name = handlers.get((self.backend_id.provider, self.topic)) or handlers.get(
            ("*", self.topic)
        )
        return name and getattr(type(self), name)

    def _handle_ping(self, payload):
        return _("Ping received.")

    def _link_document(self, record):
        """Note the business record this message created or updated."""
        self.write({"res_model": record._name, "res_id": record.id})

    def _process(self):
        """Process this message now, in this transaction, as its drain does
        (also before its next attempt's time). A failure that may pass is
        noted with its back-off and raised as a ``RetryableJobError``."""
        self.ensure_one()
        if self.state not in ("queued", "processing"):
            return _("Nothing to do: the message is %(state)s.", state=self.state)
        retry = self._process_all()
        if retry:
            err, seconds = retry[self.id]
            raise RetryableJobError(
                str(err),
                seconds=seconds,
                ignore_retry=getattr(err, "ignore_retry", False),
            ) from err
        return self.error if self.state == "failed" else self.result

    def _process_all(self, deadline=None):
        """Attempt these messages in this order, each in a savepoint (a batch
        handler's topic: consecutive messages of that topic together), and
        write their outcomes at once; past ``deadline`` (monotonic), the rest
        stay queued. {id: (error, seconds)} of the messages that wait for a
        retry."""
        outcomes = {}
        retry = {}
        group = self.browse()
        for index, message in enumerate(self):
            if deadline and index and time.monotonic() > deadline:
                break
            if (
                group
                and message._find_batch_handler() != group[:1]._find_batch_handler()
            ):
                group._attempt_batch(outcomes, retry)
                group = self.browse()
            if message._find_batch_handler():
                group |= message
                continue
            outcomes[message.id] = message._attempt(retry)
        if group:
            group._attempt_batch(outcomes, retry)
        self._write_outcomes(outcomes)
        return retry

    def _attempt_batch(self, outcomes, retry):
        handler = self[:1]._find_batch_handler()
        started = time.monotonic()
        now = fields.Datetime.now()
        payloads = [storable_tree(json.loads(m.body)) for m in self]
        try:
            with self.env.cr.savepoint():
                results = handler(self, payloads)
        except Exception:  # noqa: BLE001 - each message again, alone, for its outcome
            for message in self:
                outcomes[message.id] = message._attempt(retry)
            return
        duration = int((time.monotonic() - started) * 1000 / len(self))
        for message, result in zip(self, results, strict=True):
            outcomes[message.id] = message._outcome(
                "done", now, message.attempts + 1, duration, result=result
            )

    def _attempt(self, retry):
        """One attempt of this message's handler, in a savepoint: the values
        to write (``_write_outcomes``); a failure that may pass is also noted
        in ``retry``."""
        self.ensure_one()
        started = time.monotonic()
        now = fields.Datetime.now()
        attempts = self.attempts + 1
        # What the handler changes carries the message's correlation id on
        # (the records it creates, the outbox events they write).
        handler = self.with_context(
            retail_correlation_id=self.correlation_id
        )._find_handler()
        if handler is None:
            result = _(
                "No handler for topic %(topic)s of provider %(provider)s: "
                "stored, not processed.",
                topic=self.topic,
                provider=self.backend_id.provider,
            )
            return self._outcome("ignored", now, attempts, 0, result=result)
        try:
            with self.env.cr.savepoint():
                result = handler(storable_tree(json.loads(self.body)))
        except TRANSIENT_ERRORS as err:
            duration = int((time.monotonic() - started) * 1000)
            # A handler's RetryableJobError(ignore_retry=True) (a short wait,
            # e.g. for a lock another message's drain holds) spends no attempt.
            if getattr(err, "ignore_retry", False):
                attempts -= 1
            elif attempts >= MAX_ATTEMPTS:
                return self._fail(err, now, attempts, duration, last_attempt=True)
            seconds = _retry_delay(err, attempts)
            retry[self.id] = (err, seconds)
            return self._outcome(
                "queued",
                now,
                attempts,
                duration,
                next_attempt_at=now + timedelta(seconds=seconds),
                note=_(
                    "retried in %(seconds)s s: %(error)s", seconds=seconds, error=err
                ),
            )
        except Exception as err:  # noqa: BLE001 - any other error is the data's: fail now
            duration = int((time.monotonic() - started) * 1000)
            return self._fail(err, now, attempts, duration)
        duration = int((time.monotonic() - started) * 1000)
        return self._outcome(
            "done", now, attempts, duration, result=result or _("Processed.")
        )

    def _outcome(self, state, now, attempts, duration, note=None, **vals):
        line = _(
            "%(when)s UTC · attempt %(count)s · %(state)s (%(ms)s ms)%(note)s",
            when=fields.Datetime.to_string(now),
            count=attempts,
            state=dict(self._fields["state"]._description_selection(self.env))[state],
            ms=duration,
            note=f": {note}" if note else "",
        )
        return {
            "state": state,
            "attempts": attempts,
            "started_at": now,
            "processed_at": None if state == "queued" else fields.Datetime.now(),
            "duration_ms": duration,
            "next_attempt_at": None,
            "result": None,
            "error": None,
            "error_detail": None,
            "exception_id": None,
            "log": line,
            **vals,
        }

    def _write_outcomes(self, outcomes):
        """One UPDATE for the outcomes of a batch ({id: values}); the
        exceptions inbox items whose every message is now processed are
        resolved."""
        if not outcomes:
            return
        execute_values(
            self.env.cr,
            _OUTCOME_SQL,
            [
                (message_id, self.env.uid, *(values[c] for c in _OUTCOME_COLUMNS))
                for message_id, values in outcomes.items()
            ],
        )
        messages = self.browse(list(outcomes))
        messages.invalidate_recordset(
            [*_OUTCOME_COLUMNS[:-1], "attempt_log", "write_date", "write_uid"]
        )
        finished = messages.filtered(
            lambda m: m.exception_id and m.state in ("done", "ignored")
        )
        for exception in finished.exception_id:
            if not self.search_count(
                [("exception_id", "=", exception.id), ("state", "in", UNFINISHED)]
            ):
                # sudo: the inbox item is closed on the message's behalf
                exception.sudo().write({"state": "resolved"})
                # sudo: as above
                exception.sudo().message_post(
                    body=_("Resolved: every message it held succeeded.")
                )

    def _fail(self, err, now, attempts, duration, last_attempt=False, cause=None):
        """Failed for good: note why, and file it in the inbox, one item per
        cause however many messages share it (a ``RetailDataError`` says how)."""
        kind = getattr(err, "kind", None)
        if cause:
            kind = kind or "other"
        elif isinstance(err, AccessError):
            # The handler went beyond what the backend's technical user may do.
            kind = kind or "configuration"
            cause = _(
                "The backend's technical user %(user)s was refused: %(error)s",
                user=self.env.user.name,
                error=err.args[0] if err.args else err,
            )
        elif isinstance(err, UserError | ValidationError):
            cause = str(err.args[0]) if err.args else str(err)
        elif last_attempt:
            cause = _(
                "The channel or a service kept failing (%(error)s); "
                "%(count)s attempts made.",
                error=err,
                count=attempts,
            )
        else:
            cause = _("Unexpected error while processing: %(error)s", error=err)
        detail = "".join(traceback.format_exception(err)) if err else cause
        exception = (
            self.env["retail.sync.exception"]
            # sudo: inbox items are filed on the message's behalf
            .sudo()
            ._report(
                cause,
                name=_("Webhook %(topic)s could not be processed", topic=self.topic),
                backend=self.backend_id,
                kind=kind or ("connection" if last_attempt else "data"),
                detail=detail,
                source=self,
                key=f"webhook:{getattr(err, 'key', None) or cause}",
                per_source=False,
                vals=getattr(err, "vals", None),
            )
        )
        self.message_post(body=_("Processing failed: %(cause)s", cause=cause))
        _logger.info("Inbound message %s failed: %s", self.id, cause)
        return self._outcome(
            "failed",
            now,
            attempts,
            duration,
            note=cause,
            error=cause,
            error_detail=detail,
            exception_id=exception.id,
        )

    # Draining ------------------------------------------------------------------

    @api.model
    def _drain(self, backend, slot):
        """The drain job of ``backend`` (lib/drains.py): process its due
        messages in batches until none is left or its time is up.

        It commits on a cursor of its own: the job's transaction keeps the
        job's lock row (retail_integration's dead-job watcher) until it ends.
        """
        job_uuid = self.env.context.get("job_uuid")
        deadline = time.monotonic() + drains.time_budget(
            dead_jobs.job_time_limit(config)
        )
        with self.env.registry.cursor() as cr:
            drain = _Drain(self.env(cr=cr)[self._name], backend, slot, job_uuid)
            return drain.run(deadline)

    @api.model
    def _drain_batch(self, backend, limit, ids=None, note=None, deadline=None):
        """Claim due messages of ``backend`` (``ids`` only, if given), call
        ``note`` with their ids and process them, without committing; the
        claimed ids."""
        self.env.flush_all()
        if ids:
            self.env.cr.execute(drains.CLAIM_IDS_SQL, [list(ids)])
        else:
            self.env.cr.execute(
                drains.CLAIM_SQL, {"backend": backend.id, "limit": limit}
            )
        claimed = [row[0] for row in self.env.cr.fetchall()]
        if claimed:
            if note:
                note(claimed)
            self.browse(claimed)._process_all(deadline)
        return claimed

    # Actions -------------------------------------------------------------------

    def action_retry(self):
        retryable = self.filtered(
            lambda m: m.state in ("failed", "ignored", "received")
        )
        if not retryable:
            raise UserError(
                _("Only failed, ignored or received messages can be retried.")
            )
        for message in retryable:
            message.message_post(body=_("Retry requested."))
        retryable._enqueue()
        return True

    def _retail_exception_retry(self):
        """The inbox's Retry: every failed message held by the same exception."""
        failed = self.search(
            [("exception_id", "in", self.exception_id.ids), ("state", "=", "failed")]
        )
        (failed | self.filtered(lambda m: m.state == "failed")).action_retry()

    def action_open_document(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "views": [(False, "form")],
        }

    @api.model
    def _gc_processed(self):
        """Cron: delete done and ignored messages past the retention period, in
        small batches so that the table stays available under load, keeping
        a tombstone of each (and purging the tombstones past their horizon)."""
        days = int(config.get("retail_webhook_retention_days") or 30)
        limit = fields.Datetime.now() - timedelta(days=days)
        domain = [("state", "in", ("done", "ignored")), ("received_at", "<", limit)]
        deleted = 0
        tombstones = self.env["retail.inbound.tombstone"]
        while True:
            batch = self.search(domain, limit=GC_BATCH)
            if not batch:
                tombstones._gc()
                return deleted
            deleted += len(batch)
            tombstones._bury(batch)
            batch.unlink()


class _Drain:  # pylint: disable=invalid-commit
    """One run of a drain job, on a cursor of its own (lib/drains.py). It
    commits each batch: the cursor is its own, opened for it by ``_drain``."""

    def __init__(self, messages, backend, slot, job_uuid):
        self.messages = messages
        self.env = messages.env
        self.cr = messages.env.cr
        self.backend = backend.with_env(messages.env)
        self.slot = slot
        self.job_uuid = job_uuid
        self.processed = 0
        self.claimed = []

    def _side(self, query, params):
        """On the worker's autocommit connection: outside the drain's
        transaction, so that a kill does not roll it back."""
        return autocommit.execute(self.cr.dbname, query, params)

    def _keys(self, **params):
        return {"backend": self.backend.id, "slot": self.slot, **params}

    def run(self, deadline):
        if not self._take():
            return _("Another drain of this backend runs.")
        isolate, killed = self._recover()
        if killed:
            # This job's worker was killed: a new job runs the rest, so that
            # no drain job is killed twice (retail_integration fails a job
            # killed too often; here the message that kills is failed).
            self._successor()
            return _("Took over from a killed drain; the next drain goes on.")
        limit = drains.batch_size()
        helpers = drains.max_drains() > 1 and self.slot == 0
        idle_since = None
        while True:
            if time.monotonic() > deadline:
                self._successor()
                return self._summary(_("time is up, the next drain goes on"))
            alone = [isolate.pop(0)] if isolate else None
            try:
                claimed = self.messages._drain_batch(
                    self.backend,
                    limit,
                    ids=alone,
                    note=lambda ids: self._note(ids, isolate),
                    deadline=deadline,
                )
                self.cr.commit()
            except TransactionRollbackError:
                # a serialization failure or a deadlock: claimed again
                self.cr.rollback()
                isolate[:0] = alone or []
                time.sleep(0.05)
                continue
            except Exception as err:  # noqa: BLE001 - not a handler's: see below
                self.cr.rollback()
                isolate[:0] = self._after_error(err, alone)
                continue
            self.processed += len(claimed)
            if alone or claimed:
                self._side(drains.CLEAR_BATCH_SQL, self._keys())
                idle_since = None
                if helpers and len(claimed) == limit:
                    helpers = False
                    self._arm_helpers()
                continue
            # Nothing due: a stream of webhooks keeps its drain a little
            # while, rather than a new drain job every few messages.
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since < drains.IDLE_SECONDS:
                time.sleep(drains.IDLE_POLL)
                continue
            if self._release():
                return self._summary(_("nothing left"))
            idle_since = None

    def _summary(self, why):
        return _(
            "%(count)s messages processed; %(why)s.", count=self.processed, why=why
        )

    def _take(self):
        self.cr.execute(drains.OWNER_SQL, [self.backend.id, self.slot])
        row = self.cr.fetchone()
        if not (row and row[0] == self.job_uuid):
            try:
                self.cr.execute(drains.TAKE_SQL, self._keys(uuid=self.job_uuid))
                row = self.cr.fetchone()
            except TransactionRollbackError:
                row = None
        self.cr.commit()
        return bool(row)

    def _recover(self):
        """The messages to run one at a time (a killed drain's batch), and
        whether this job follows a kill."""
        rows = self._side(drains.READ_BATCH_SQL, [self.backend.id, self.slot])
        if not rows:
            return [], False
        batch, isolate, suspect, kills = rows[0]
        isolate = list(isolate or [])
        if not batch:
            return isolate, False
        if len(batch) == 1:
            # It ran alone and its worker died: once too often, it fails.
            kills = kills + 1 if suspect == batch[0] else 1
            suspect = batch[0]
            if kills >= dead_jobs.max_kills(config):
                self._fail_alone(
                    batch[0], cause=self.env["retail.job.lock"]._killed_cause(kills)
                )
                suspect, kills, batch = None, 0, []
        isolate = batch + [i for i in isolate if i not in batch]
        self._side(
            drains.WRITE_RECOVERY_SQL,
            self._keys(isolate=isolate, suspect=suspect, kills=kills),
        )
        return isolate, True

    def _note(self, ids, isolate):
        self.claimed = ids
        self._side(drains.NOTE_BATCH_SQL, self._keys(ids=ids, isolate=isolate))

    def _after_error(self, err, alone):
        """A batch failed outside its handlers' savepoints (writing an
        outcome, the inbox): its messages run again one at a time; one
        alone fails."""
        _logger.warning("Drain of backend %s: %s", self.backend.id, err, exc_info=True)
        claimed, self.claimed = self.claimed, []
        if alone or len(claimed) == 1:
            self._fail_alone((alone or claimed)[0], err=err)
            # Failed, not killed: the next drain has no batch to recover.
            self._side(drains.CLEAR_BATCH_SQL, self._keys())
            return []
        return claimed

    def _fail_alone(self, message_id, err=None, cause=None):
        message = self.messages.browse(message_id)
        if message.state != "queued":
            return
        outcome = message._fail(
            err, fields.Datetime.now(), message.attempts + 1, 0, cause=cause
        )
        message._write_outcomes({message.id: outcome})
        self.cr.commit()

    def _successor(self):
        job_uuid = self.messages._delay_drain(
            self.backend, self.backend.job_channel, self.slot
        )
        self.cr.execute(drains.OWN_SQL, [job_uuid, self.backend.id, self.slot])
        self.cr.commit()

    def _arm_helpers(self):
        """More drains of this backend, for a backlog (as many as
        ``retail_webhook_drains_per_backend``)."""
        for slot in range(1, drains.max_drains()):
            try:
                self.messages._arm_drain(self.backend, self.backend.job_channel, slot)
                self.cr.commit()
            except TransactionRollbackError:
                self.cr.rollback()

    def _release(self):
        """End the drain when nothing is due (lib/drains.py); False when it
        must go on: requests hold its flag, or messages came meanwhile. A
        helper drain (slot > 0) just ends."""
        self.cr.execute("SET LOCAL lock_timeout = %s", [drains.RELEASE_LOCK_TIMEOUT])
        try:
            self.cr.execute(
                drains.RELEASE_SQL, [self.backend.id, self.slot, self.job_uuid]
            )
        except LockNotAvailable:
            self.cr.rollback()  # requests are storing messages: drain on
            return False
        if not self.cr.fetchone():  # another job took the flag over
            self.cr.rollback()
            return True
        self.cr.commit()
        if self.slot:
            # Slot 0's drain sees what is left: the messages other drains
            # hold (queued until they commit, so due here) and the retries.
            return True
        self.cr.execute(drains.PENDING_SQL, [self.backend.id])
        due, next_attempt_at = self.cr.fetchone()
        if due:
            try:
                self.cr.execute(drains.ARM_SQL, [self.backend.id, self.slot])
                if self.cr.fetchone():
                    self.cr.execute(
                        drains.OWN_SQL, [self.job_uuid, self.backend.id, self.slot]
                    )
                    self.cr.commit()
                    return False
            except TransactionRollbackError:
                pass  # armed by another meanwhile
            self.cr.rollback()
            return True
        if next_attempt_at:
            # At the earliest retry, an hour ahead at most (queue_job's runner
            # cannot wait for an eta weeks ahead; one that comes early finds
            # nothing due and queues the next).
            wake_up = min(
                next_attempt_at,
                fields.Datetime.now() + timedelta(seconds=drains.MAX_WAKE_UP),
            )
            self.messages._delay_drain(
                self.backend, self.backend.job_channel, self.slot, eta=wake_up
            )
        self.cr.commit()
        return True
