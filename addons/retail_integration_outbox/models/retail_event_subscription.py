import dataclasses
import json
import logging
import time
from collections import namedtuple
from datetime import datetime, timedelta

import requests

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools import config, format_datetime

from odoo.addons.retail_integration.lib import standard_webhooks

from ..lib import retry, ssrf
from ..lib.events import PRICE_CHANGED, STOCK_LEVEL_CHANGED, excerpt

_logger = logging.getLogger(__name__)

Route = namedtuple("Route", "id backend_id company_id pricelist_id warehouse_id")

# One keep-alive session per subscription and worker process, reused by every
# dispatch job that process runs.
_SESSIONS = {}

DISPATCH_SECONDS = 10  # a dispatch job re-enqueues itself after this long
MAX_GRACE_HOURS = 24 * 30  # a rotation grace of at most 30 days
ROUTE_FIELDS = {"active", "backend_id", "event_type_ids"}


def _config_int(name, default):
    return int(config.get(name) or default)


def allow_private_urls():
    return tools.str2bool(str(config.get("retail_outbox_allow_private_urls") or False))


class RetailEventSubscription(models.Model):
    """A receiver of a backend's outbox events: URL, secret, policy, health."""

    _name = "retail.event.subscription"
    _description = "Event Subscription"
    _inherit = ["mail.thread", "retail.secret.mixin"]
    _order = "backend_id, name, id"
    _check_company_auto = True
    _secret_fields = ("signing_secret", "previous_signing_secret")

    name = fields.Char(required=True, tracking=True)
    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True, tracking=True
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True
    )
    delivery_mode = fields.Selection(
        [("webhook", "Signed webhook")],
        string="Delivery",
        required=True,
        default="webhook",
        tracking=True,
        help="How deliveries reach the receiver. Connector modules add their own "
        "modes (one API call per batch); the URL and the signing secret are used "
        "only by signed webhooks.",
    )
    url = fields.Char("Target URL", tracking=True)
    event_type_ids = fields.Many2many(
        "retail.outbox.event.type", string="Event Types", required=True
    )
    active = fields.Boolean(default=True, tracking=True)
    signing_secret = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_secret_fields",
        help="Standard Webhooks secret (whsec_...). Stored encrypted, never shown "
        "again; one is generated when left empty.",
    )
    signing_secret_sealed = fields.Char(copy=False, groups="base.group_system")
    signing_secret_is_set = fields.Boolean(compute="_compute_secret_is_set")
    secret_shown = fields.Boolean(
        copy=False,
        readonly=True,
        help="The generated secret has been shown once; it cannot be shown again.",
    )
    # Set by Rotate Secret: the old secret also signs until then.
    previous_signing_secret = fields.Char(
        compute="_compute_secret_fields", inverse="_inverse_secret_fields"
    )
    previous_signing_secret_sealed = fields.Char(copy=False, groups="base.group_system")
    previous_signing_secret_is_set = fields.Boolean(compute="_compute_secret_is_set")
    previous_secret_until = fields.Datetime(
        "Old Secret Also Signs Until", readonly=True, copy=False
    )
    secret_grace_hours = fields.Integer(
        "Rotation Grace (h)",
        default=24,
        help="After Rotate Secret, requests carry a signature with the old secret "
        "beside the new one for this long, so that the receiver can switch "
        "without refusing any. 0: the old secret stops at once.",
    )
    extra_headers = fields.Json(
        "Extra Headers (JSON)",
        help='Headers added to every request, as a JSON object: {"X-Api-Key": "..."}.',
    )
    extra_headers_text = fields.Text(
        "Extra Headers",
        compute="_compute_extra_headers_text",
        inverse="_inverse_extra_headers_text",
    )
    timeout = fields.Integer("Timeout (s)", default=15, required=True)
    retry_schedule = fields.Char(
        required=True,
        default=lambda self: retry.format_schedule(retry.DEFAULT_SCHEDULE),
        help="Waits before each attempt (s, m, h). After the last, a delivery is dead.",
    )
    retry_jitter = fields.Float(
        "Jitter",
        default=retry.DEFAULT_JITTER,
        help="Each wait is spread by this fraction either way.",
    )
    circuit_threshold = fields.Integer(
        "Pause After Failures",
        default=5,
        help="Consecutive failed attempts that pause the subscription (0: never).",
    )
    state = fields.Selection(
        [
            ("healthy", "Healthy"),
            ("failing", "Failing"),
            ("paused", "Paused"),
            ("stopped", "Stopped"),
        ],
        default="healthy",
        required=True,
        readonly=True,
        tracking=True,
        copy=False,
        help="Paused: the receiver keeps failing; it is probed with one delivery "
        "from time to time and sending resumes when it answers. Stopped: it "
        "answered 410 Gone, or its URL or secret is refused; nothing is sent "
        "until someone clicks Resume. Events keep being queued for it in both "
        "cases; archive the subscription to stop that.",
    )
    state_reason = fields.Char(readonly=True, copy=False)
    consecutive_failures = fields.Integer(readonly=True, copy=False)
    times_paused = fields.Integer(readonly=True, copy=False)
    probe_at = fields.Datetime("Next Probe", readonly=True, copy=False)
    hold_until = fields.Datetime(
        "Held Until",
        readonly=True,
        copy=False,
        help="The receiver answered 429 or 503 with Retry-After: nothing is sent "
        "to it before this time.",
    )
    last_success = fields.Datetime(readonly=True, copy=False)
    delivery_ids = fields.One2many(
        "retail.outbox.delivery", "subscription_id", string="Deliveries"
    )
    backlog_count = fields.Integer(compute="_compute_counts")
    dead_count = fields.Integer(compute="_compute_counts")

    @api.constrains("url", "delivery_mode")
    def _check_url(self):
        for sub in self:
            if sub.delivery_mode != "webhook":
                continue
            if not sub.url:
                raise ValidationError(
                    _("%(name)s: a signed webhook needs a target URL.", name=sub.name)
                )
            try:
                ssrf.check_syntax(sub.url)
            except ssrf.UnsafeURL as err:
                raise ValidationError(_("Target URL: %(reason)s.", reason=err)) from err

    @api.constrains("retry_schedule", "timeout", "retry_jitter", "secret_grace_hours")
    def _check_policy(self):
        for sub in self:
            try:
                retry.parse_schedule(sub.retry_schedule)
            except retry.InvalidSchedule as err:
                raise ValidationError(
                    _("Retry schedule: %(reason)s.", reason=err)
                ) from err
            if not 1 <= sub.timeout <= 120:
                raise ValidationError(
                    _("The timeout must be between 1 and 120 seconds.")
                )
            if not 0 <= sub.retry_jitter < 1:
                raise ValidationError(_("The jitter must be between 0 and 1."))
            if not 0 <= sub.secret_grace_hours <= MAX_GRACE_HOURS:
                raise ValidationError(
                    _(
                        "The rotation grace must be between 0 and %(max)s hours.",
                        max=MAX_GRACE_HOURS,
                    )
                )

    @api.depends("extra_headers")
    def _compute_extra_headers_text(self):
        for sub in self:
            sub.extra_headers_text = (
                json.dumps(sub.extra_headers, indent=2) if sub.extra_headers else False
            )

    def _inverse_extra_headers_text(self):
        for sub in self:
            text = (sub.extra_headers_text or "").strip()
            try:
                headers = json.loads(text) if text else {}
            except ValueError as err:
                raise ValidationError(
                    _("Extra headers must be a JSON object.")
                ) from err
            if not isinstance(headers, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
            ):
                raise ValidationError(_("Extra headers must map names to text values."))
            sub.extra_headers = headers or False

    def _compute_counts(self):
        Delivery = self.env["retail.outbox.delivery"]
        groups = Delivery._read_group(
            [
                ("subscription_id", "in", self.ids),
                ("state", "in", ("pending", "failed", "dead")),
            ],
            ["subscription_id", "state"],
            ["__count"],
        )
        counts = {(sub.id, state): count for sub, state, count in groups}
        for sub in self:
            sub.backlog_count = counts.get((sub.id, "pending"), 0) + counts.get(
                (sub.id, "failed"), 0
            )
            sub.dead_count = counts.get((sub.id, "dead"), 0)

    # Routes ---------------------------------------------------------------

    @api.model
    @tools.ormcache()
    def _routes(self):
        """{event type: (Route, ...)} of the active subscriptions."""
        routes = {}
        subs = self.sudo().search([("active", "=", True)])
        for sub in subs:
            for event_type in sub.event_type_ids.mapped("code"):
                pricelist = warehouse = None
                if event_type == PRICE_CHANGED:
                    # Prices are those of the backend's pricelist
                    # (0: none, matches nothing).
                    pricelist = sub.backend_id.pricelist_id.id or 0
                elif event_type == STOCK_LEVEL_CHANGED:
                    # Levels of the backend's warehouse, when it has one.
                    warehouse = sub.backend_id.warehouse_id.id or None
                routes.setdefault(event_type, []).append(
                    Route(
                        sub.id,
                        sub.backend_id.id,
                        sub.company_id.id,
                        pricelist,
                        warehouse,
                    )
                )
        return {event_type: tuple(r) for event_type, r in routes.items()}

    @api.model
    def _wanted_pricelists(self):
        return {
            r.pricelist_id
            for r in self._routes().get(PRICE_CHANGED, ())
            if r.pricelist_id
        }

    @api.model_create_multi
    def create(self, vals_list):
        can_seal = self._can_seal()
        default_mode = self.env.context.get("default_delivery_mode", "webhook")
        for vals in vals_list:
            if vals.get("delivery_mode", default_mode) != "webhook":
                continue  # no signing secret: the connector has its own credentials
            if not vals.get("signing_secret"):
                # Without a secrets key (a demo install) it stays unset until
                # someone rotates it; nothing is sent unsigned.
                if can_seal:
                    vals["signing_secret"] = standard_webhooks.generate_secret()
            else:
                vals["secret_shown"] = True  # the person typed it: they know it
        subs = super().create(vals_list)
        self.env.registry.clear_cache()
        return subs

    def write(self, vals):
        if vals.get("signing_secret"):
            vals["secret_shown"] = True
        res = super().write(vals)
        if ROUTE_FIELDS & set(vals):
            self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    # Secret ---------------------------------------------------------------

    @api.model
    def _can_seal(self):
        try:
            self._secret_box()
        except UserError:
            return False
        return True

    def action_show_secret(self):
        """Show the generated secret, once: the receiver needs it to verify."""
        self.ensure_one()
        if self.secret_shown:
            raise UserError(
                _("The signing secret was already shown. Rotate it to get a new one.")
            )
        secret = self._get_secret("signing_secret")
        self.secret_shown = True
        self.message_post(
            body=_("The signing secret was shown to %(user)s.", user=self.env.user.name)
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "sticky": True,
                "title": _("Signing secret of %(name)s: copy it now", name=self.name),
                "message": secret,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_rotate_secret(self):
        self.ensure_one()
        try:
            old = self._get_secret("signing_secret")
        except UserError:
            old = ""  # sealed with a lost key: rotating is the way out
        self._clear_secret("previous_signing_secret")
        until = False
        if old and self.secret_grace_hours > 0:
            until = fields.Datetime.now() + timedelta(hours=self.secret_grace_hours)
            self.previous_signing_secret = old
        self.signing_secret = standard_webhooks.generate_secret()
        # After the secret: writing one marks it shown (a typed one is known).
        self.write({"secret_shown": False, "previous_secret_until": until})
        if until:
            body = _(
                "A new signing secret was generated. Until %(until)s, requests "
                "are signed with the old one too.",
                until=format_datetime(self.env, until),
            )
        else:
            body = _("A new signing secret was generated.")
        self.message_post(body=body)
        return self.action_show_secret()

    def _signing_secrets(self):
        """The secrets that sign this subscription's requests: the current
        one, and the previous one during a rotation's grace period (cleared
        once it is over)."""
        self.ensure_one()
        secrets = [self._get_secret("signing_secret")]
        if self.previous_secret_until:
            if self.previous_secret_until > fields.Datetime.now():
                previous = self._get_secret("previous_signing_secret")
                secrets += [previous] if previous else []
            else:
                self._clear_secret("previous_signing_secret")
                self.previous_secret_until = False
        return secrets

    # Operator actions ------------------------------------------------------

    def action_resume(self):
        """Close the circuit (or restart after a 410 or a refusal) and send the
        backlog, in order. A receiver's Retry-After still holds."""
        self.write(
            {
                "active": True,
                "state": "healthy",
                "state_reason": False,
                "consecutive_failures": 0,
                "times_paused": 0,
                "probe_at": False,
            }
        )
        self.env["retail.sync.exception"]._resolve_for(
            self, _("The subscription was resumed.")
        )
        self._enqueue_dispatch()
        return True

    def _retail_exception_retry(self):
        self.action_resume()

    def action_open_deliveries(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retail_integration_outbox.retail_outbox_delivery_action"
        )
        action["domain"] = [("subscription_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_open_replay(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "retail.outbox.replay.wizard",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_subscription_id": self.id},
        }

    # Dispatch -------------------------------------------------------------

    def _enqueue_dispatch(self, eta=None):
        """One dispatch job per subscription waits to run (a second one, with an
        ``eta``, for a run later). Capture calls this in every transaction that
        writes events: the subscriptions whose job is already waiting are found
        in one query and left alone, as queue_job's identity_key would."""
        suffix = ":later" if eta else ""
        keys = {
            sub_id: f"retail_outbox_dispatch:{sub_id}{suffix}" for sub_id in self.ids
        }
        if not keys:
            return
        self.env["queue.job"].flush_model(["identity_key", "state"])
        self.env.cr.execute(
            """SELECT identity_key FROM queue_job
                WHERE identity_key = ANY(%s) AND identity_key IS NOT NULL
                  AND state IN ('wait_dependencies', 'pending', 'enqueued')""",
            [list(keys.values())],
        )
        waiting = {row[0] for row in self.env.cr.fetchall()}
        for sub in self:
            if keys[sub.id] in waiting:
                continue
            sub.backend_id._with_delay(
                sub,
                eta=eta,
                identity_key=keys[sub.id],
                description=_("Outbox: deliver to %(name)s", name=sub.name),
            )._dispatch()

    def _lock(self):
        """Take this subscription for the transaction; False if a dispatcher has it."""
        self.env.cr.execute(
            "SELECT id FROM retail_event_subscription WHERE id = %s "
            "FOR UPDATE SKIP LOCKED",
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
        sub = self.sudo()
        if not sub.active or sub.backend_id.state != "active":
            return "inactive"
        if sub.state == "stopped":
            return "stopped: waits for Resume"
        if not sub._lock():
            # The holder looks for deliveries committed after it began before
            # it ends (``_schedule_next``): this job's are not left behind.
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
        webhook = sub.delivery_mode == "webhook"
        secrets = sub._signing_secrets() if webhook else [""]
        session = sub._session()
        deadline = time.monotonic() + DISPATCH_SECONDS
        Delivery = self.env["retail.outbox.delivery"].sudo()
        sent = 0
        stop = False
        while not stop:
            deliveries = Delivery._claim(sub, batch_size)
            if not deliveries:
                break
            refusal = sub._refusal(secrets[0]) if webhook else None
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
        more = stop and time.monotonic() > deadline
        sub._schedule_next(sent, more, seen)
        return f"{sent} sent, state {sub.state}"

    def _target(self):
        """Where deliveries go, for messages: the URL, or the delivery mode."""
        if self.delivery_mode == "webhook":
            return self.url
        modes = dict(self._fields["delivery_mode"]._description_selection(self.env))
        return modes.get(self.delivery_mode, self.delivery_mode)

    def _refusal(self, secret):
        """(reason, cause, key) if this webhook must not be sent to, else None."""
        try:
            ssrf.check_url(self.url, allow_private_urls())
        except ssrf.UnsafeURL as err:
            cause = _(
                "The target URL of %(name)s is refused: %(reason)s. Change the "
                "URL, or ask the administrator to allow private URLs, then "
                "resume the subscription.",
                name=self.name,
                reason=err,
            )
            return str(err), cause, "ssrf"
        if not secret:
            cause = _(
                "%(name)s has no signing secret, and nothing is sent unsigned. "
                "Rotate the secret, give it to the receiver, then resume the "
                "subscription.",
                name=self.name,
            )
            return "no secret", cause, "secret"
        return None

    def _deliver(self, deliveries, session, secrets):
        """Send ``deliveries`` (claimed, in order), signed with ``secrets``;
        yield ``(delivery, outcome, attempt_vals)`` for each one handled, in
        that order.

        ``outcome`` is a ``lib.retry.Outcome``; ``attempt_vals`` holds
        attempts, last_attempt, last_status_code, response_excerpt and
        latency_ms (see ``retail.outbox.delivery._send``). The dispatcher
        records each outcome as it is yielded and may stop early (probe,
        circuit opened, deadline): it then closes the generator, and the
        deliveries not yielded go back to the queue.

        Connector modules override this for their own ``delivery_mode``
        (one API call for the batch, then one tuple per delivery) and call
        ``super()`` for the other modes.
        """
        if self.delivery_mode != "webhook":
            raise UserError(
                _(
                    "%(name)s: no module delivers in mode %(mode)s.",
                    name=self.name,
                    mode=self.delivery_mode,
                )
            )
        for delivery in deliveries:
            if self._resume_at():
                return  # the receiver asked to wait (Retry-After): no more now
            yield (delivery, *delivery._send(session, self, secrets))

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
        transaction of its own."""
        with self.env.registry.cursor() as cr:
            cr.execute(
                """SELECT EXISTS(
                       SELECT 1 FROM retail_outbox_delivery
                        WHERE subscription_id = %s AND id > %s
                          AND state IN ('pending', 'failed') AND next_attempt <= %s)""",
                [self.id, seen, fields.Datetime.now()],
            )
            return cr.fetchone()[0]

    def _resume_at(self):
        """When this subscription may send again, if not now: the next probe
        of a paused one, or the end of its receiver's Retry-After, whichever
        is later. False if it may send now."""
        now = fields.Datetime.now()
        times = (self.hold_until, self.state == "paused" and self.probe_at)
        return max((t for t in times if t and t > now), default=False)

    def _schedule_next(self, sent, more, seen=None):
        if not self.active or self.state == "stopped":
            return
        later = self._resume_at()
        if later:
            self._enqueue_dispatch(eta=later)
        elif more or (seen is not None and self._committed_since(seen)):
            # Work this run could not see: the next run starts once this one
            # commits (and releases the subscription).
            self._enqueue_dispatch()
        elif sent:
            # A capture committed between the look above and this run's
            # commit may have found the lock taken: look again shortly.
            self._enqueue_dispatch(eta=fields.Datetime.now() + timedelta(seconds=1))
        else:
            self.env.cr.execute(
                """SELECT min(next_attempt) FROM retail_outbox_delivery
                   WHERE subscription_id = %s AND state IN ('pending', 'failed')""",
                [self.id],
            )
            soonest = self.env.cr.fetchone()[0]
            if soonest and soonest < datetime.utcnow() + timedelta(hours=1):
                self._enqueue_dispatch(eta=soonest)

    def _record(self, delivery, outcome, attempt, policy, probing, delivered=None):
        """Apply an attempt's outcome to the delivery and to the circuit.

        A plain success is appended to ``delivered``, if given, for
        ``retail.outbox.delivery._mark_delivered_many``; it is written now
        otherwise."""
        now = fields.Datetime.now()
        # What a receiver or a connector answered goes into text columns:
        # made safe here, for every delivery mode.
        attempt = dict(
            attempt, response_excerpt=excerpt(attempt.get("response_excerpt"))
        )
        outcome = dataclasses.replace(outcome, reason=excerpt(outcome.reason))
        if outcome.kind == retry.DELIVERED:
            if delivered is not None and not delivery.reported:
                delivered.append((delivery, attempt))
            else:
                delivery._mark_delivered(attempt)
            if self.state != "healthy" or self.consecutive_failures:
                was_paused = self.state == "paused"
                self.write(
                    {
                        "state": "healthy",
                        "state_reason": False,
                        "consecutive_failures": 0,
                        "times_paused": 0,
                        "probe_at": False,
                        "last_success": now,
                    }
                )
                if was_paused:
                    self.env["retail.sync.exception"]._resolve_for(
                        self, _("The receiver answered again; delivery resumed.")
                    )
            return
        if outcome.kind == retry.GONE:
            delivery._mark_failed(outcome, attempt, now)
            self.write({"state": "stopped", "state_reason": outcome.reason})
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
                key="gone",
            )
            return
        # To the microsecond: fields.Datetime.now() is up to a second behind.
        answered = datetime.now()
        if outcome.retry_after is not None:
            # The receiver asked not to be sent anything before then.
            until = retry.due_at(answered, outcome.retry_after)
            if not self.hold_until or until > self.hold_until:
                self.hold_until = until
        if probing:
            # The backlog does not age while the circuit is open.
            delivery._mark_failed(outcome, attempt, delivery.next_attempt, count=False)
        else:
            wait = retry.next_wait(
                outcome, policy["schedule"], delivery.attempts + 1, policy["jitter"]
            )
            if wait is None:
                delivery._mark_dead(outcome, attempt)
            else:
                delivery._mark_failed(outcome, attempt, retry.due_at(answered, wait))
        if not (outcome.counts_for_circuit or probing):
            return  # a 429: the receiver paces us, it is not failing
        # A probe that is answered 429 is not a failure, but it is probed
        # again later.
        failures = self.consecutive_failures + int(outcome.counts_for_circuit)
        vals = {"consecutive_failures": failures, "state_reason": outcome.reason}
        if probing or retry.circuit_opens(failures, self.circuit_threshold):
            paused = self.times_paused + 1
            vals.update(
                state="paused",
                times_paused=paused,
                probe_at=now + timedelta(seconds=retry.probe_wait(paused)),
            )
            if not probing:
                self._report(
                    _(
                        "%(url)s failed %(count)s times in a row (last: %(reason)s). "
                        "Sending is paused; the receiver is probed with one delivery "
                        "from time to time and sending resumes when it answers. The "
                        "backlog is kept.",
                        url=self._target(),
                        count=failures,
                        reason=outcome.reason,
                    ),
                    key="circuit",
                )
        else:
            vals["state"] = "failing"
        self.write(vals)

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
