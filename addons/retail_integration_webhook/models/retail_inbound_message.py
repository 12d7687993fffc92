import json
import logging
import time
import traceback
from datetime import timedelta

import psycopg2
import requests
from psycopg2.errors import SerializationFailure

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config

from odoo.addons.queue_job.delay import Delayable
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.utils import must_run_without_delay
from odoo.addons.retail_integration.lib.text import storable_tree

from ..lib import job_rows

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Failures that may pass by themselves: the job is retried with backoff. A
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


def _retry_delay(err):
    """Seconds before the next attempt; None for the job's retry pattern."""
    if isinstance(err, psycopg2.OperationalError):
        return CONFLICT_RETRY_SECONDS
    return getattr(err, "seconds", None)  # a RetryableJobError may say


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
        help="Received: stored, waiting for its backend to be active. Queued: its job "
        "waits to run. Ignored: no handler for its topic, or a topic the endpoint "
        "does not accept.",
    )
    job_uuid = fields.Char(readonly=True, copy=False)
    attempts = fields.Integer(readonly=True)
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
    def _insert_once(self, endpoint, **vals):
        """INSERT the message unless its delivery id (or its body key) is
        known, or its delivery id is among the tombstones of deleted messages;
        None if it is.

        The unique indexes decide between concurrent twins, not a prior read.
        A twin committed after this request's snapshot was taken makes
        PostgreSQL refuse the INSERT with a serialization failure: that is a
        duplicate too, answered here rather than by Odoo's retry of the whole
        request, which logs the failed statement (body and headers) at ERROR.
        The request has written nothing before: it is rolled back whole.
        """
        try:
            self._insert_row(endpoint, vals)
        except SerializationFailure:
            self.env.cr.rollback()
            return None
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else None

    @api.model
    def _insert_row(self, endpoint, vals):
        self.env.cr.execute(
            """
            INSERT INTO retail_inbound_message
                (endpoint_id, backend_id, company_id, topic, delivery_id,
                 correlation_id,
                 received_at, body, body_hash, body_key, headers, state, attempts,
                 create_uid, create_date, write_uid, write_date)
            SELECT %(endpoint)s, %(backend)s, %(company)s, %(topic)s, %(delivery_id)s,
                   %(correlation_id)s, %(now)s, %(body)s, %(body_hash)s, %(body_key)s,
                   %(headers)s, %(state)s, 0, %(uid)s, %(now)s, %(uid)s, %(now)s
            WHERE NOT EXISTS (
                SELECT 1 FROM retail_inbound_tombstone
                WHERE endpoint_id = %(endpoint)s AND delivery_id = %(delivery_id)s)
            ON CONFLICT DO NOTHING
            RETURNING id
            """,
            {
                "endpoint": endpoint.id,
                "backend": endpoint.backend_id.id,
                "company": endpoint.company_id.id,
                "now": fields.Datetime.now(),
                "uid": self.env.uid,
                "body_key": None,
                **vals,
                "headers": json.dumps(vals["headers"]),
            },
            log_exceptions=False,
        )

    def _enqueue(self):
        """One job per message, on its backend's channel, in this transaction."""
        for message in self:
            backend = message.backend_id
            backend._ensure_technical_user()
            message._delay_processing(
                backend.job_channel,
                message.topic,
                backend.technical_user_id,
                message.attempts,
            )

    def _delay_processing(self, channel, topic, user, attempts_before=0):
        """Queue this message's job, in this transaction; the accept path
        passes what it knows, so that nothing is read back.

        queue_job's own Delayable builds the job (uuid, description, the
        serialized call) exactly as ``with_delay()`` does, and its no-delay
        modes still run it at once. The row is written by
        ``job_rows.store_new_job`` (one INSERT, see there).

        The job runs as ``user``, the backend's technical user: the handler
        has its rights and sees its company only (the companies of whoever
        queued it are not kept: the user's own is the backend's).
        """
        self.ensure_one()
        context = dict(self.env.context)
        context.pop("allowed_company_ids", None)
        delayable = Delayable(
            self.with_env(self.env(user=user, context=context, su=False)),
            channel=channel,
            max_retries=MAX_ATTEMPTS,
            description=_("Process webhook %(topic)s", topic=topic),
        )
        delayable._process(attempts_before=attempts_before)
        run_now = must_run_without_delay(self.env)
        job_uuid = None
        if not run_now:
            job = delayable._build_job()
            job_rows.store_new_job(self.env, job)
            job_uuid = job.uuid
        self.env.cr.execute(
            "UPDATE retail_inbound_message SET state = 'queued', job_uuid = %s "
            "WHERE id = %s",
            [job_uuid, self.id],
        )
        self.invalidate_recordset(["state", "job_uuid"])
        if run_now:
            delayable.delay()  # queue_job's no-delay mode runs the job here

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

    def _find_handler(self):
        handlers = self._webhook_handlers()
        name = handlers.get((self.backend_id.provider, self.topic)) or handlers.get(
            ("*", self.topic)
        )
        return getattr(self, name) if name else None

    def _handle_ping(self, payload):
        return _("Ping received.")

    def _link_document(self, record):
        """Note the business record this message created or updated."""
        self.write({"res_model": record._name, "res_id": record.id})

    def _process(self, attempts_before=0):
        """Job: run the topic's handler; transient errors retry, others fail.

        ``attempts_before``: attempts of earlier jobs of this message. This
        job's own are counted by queue_job, whose count survives the rollback
        of a retried attempt.
        """
        self.ensure_one()
        if self.state not in ("queued", "processing"):
            return _("Nothing to do: the message is %(state)s.", state=self.state)
        started = time.monotonic()
        job = self._job()
        self.write(
            {
                "state": "processing",
                "attempts": attempts_before + job.retry + 1,
                "started_at": fields.Datetime.now(),
            }
        )
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
            self._finish("ignored", started, result=result)
            return result
        try:
            with self.env.cr.savepoint():
                result = handler(storable_tree(json.loads(self.body)))
        except TRANSIENT_ERRORS as err:
            # A handler's RetryableJobError(ignore_retry=True) (a short wait,
            # e.g. for a lock another job holds) spends no attempt.
            ignore_retry = getattr(err, "ignore_retry", False)
            if ignore_retry or not self._is_last_attempt(job):
                raise RetryableJobError(
                    str(err), seconds=_retry_delay(err), ignore_retry=ignore_retry
                ) from err
            self._fail(err, started, last_attempt=True)
            return self.error
        except Exception as err:  # noqa: BLE001 - any other error is the data's: fail now
            self._fail(err, started)
            return self.error
        self._finish("done", started, result=result or _("Processed."))
        return self.result

    def _job(self):
        return (
            # sudo: queue.job is readable by queue_job's managers only: this message's
            # own job
            self.env["queue.job"].sudo().search([("uuid", "=", self.job_uuid)], limit=1)
        )

    def _is_last_attempt(self, job):
        # queue_job counts this attempt only once it ends.
        return not job or job.retry + 1 >= job.max_retries

    def _finish(self, state, started, **vals):
        self.write(
            {
                "state": state,
                "processed_at": fields.Datetime.now(),
                "duration_ms": int((time.monotonic() - started) * 1000),
                "error": False,
                "error_detail": False,
                **vals,
            }
        )
        exception = self.exception_id
        unfinished = ("received", "queued", "processing", "failed")
        if exception and not self.search_count(
            [("exception_id", "=", exception.id), ("state", "in", unfinished)]
        ):
            # sudo: the inbox item is closed on the message's behalf
            exception.sudo().write({"state": "resolved"})
            # sudo: as above
            exception.sudo().message_post(
                body=_("Resolved: every message it held succeeded.")
            )

    def _fail(self, err, started, last_attempt=False):
        """Failed for good: note why, and file it in the inbox, one item per
        cause however many messages share it (a ``RetailDataError`` says how)."""
        kind = getattr(err, "kind", None)
        if isinstance(err, AccessError):
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
                count=self.attempts,
            )
        else:
            cause = _("Unexpected error while processing: %(error)s", error=err)
        detail = "".join(traceback.format_exception(err))
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
        self.write(
            {
                "state": "failed",
                "processed_at": fields.Datetime.now(),
                "duration_ms": int((time.monotonic() - started) * 1000),
                "error": cause,
                "error_detail": detail,
                "exception_id": exception.id,
            }
        )
        self.message_post(body=_("Processing failed: %(cause)s", cause=cause))
        _logger.info("Inbound message %s failed: %s", self.id, cause)

    def _retail_job_killed(self, exception):
        """retail_integration failed this message's job, filed as
        ``exception``: the worker running it was killed too often."""
        self.write(
            {
                "state": "failed",
                "processed_at": fields.Datetime.now(),
                "error": exception.cause,
                "exception_id": exception.id,
            }
        )
        self.message_post(body=_("Processing failed: %(cause)s", cause=exception.cause))

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
        retryable.write({"state": "queued"})
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

    def action_open_job(self):
        self.ensure_one()
        job = self.env["queue.job"].search([("uuid", "=", self.job_uuid)], limit=1)
        if not job:
            raise UserError(_("The job of this message was already cleaned up."))
        return {
            "type": "ir.actions.act_window",
            "res_model": "queue.job",
            "res_id": job.id,
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
