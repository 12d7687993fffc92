import json
from datetime import timedelta
from typing import NamedTuple

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_datetime

from odoo.addons.retail_integration.lib import standard_webhooks

from ..lib import retry, transports, versions

MAX_GRACE_HOURS = 24 * 30  # a rotation grace of at most 30 days
ROUTE_FIELDS = {"active", "backend_id", "event_type_ids", "payload_version"}


class Route(NamedTuple):
    """A subscription an event type goes to (``_routes``)."""

    id: int
    backend_id: int
    company_id: int
    scope: tuple | None  # the scope it takes (lib/routing.py), None: any
    version: int  # the version of the type's data it gets


class RetailEventSubscription(models.Model):
    """A receiver of a backend's outbox events: where and how they are
    delivered, policy, health. The dispatch job is in
    retail_event_subscription_dispatch.py."""

    _name = "retail.event.subscription"
    _description = "Event Subscription"
    _inherit = ["mail.thread", "retail.secret.mixin", "retail.outbox.routing.source"]
    _routing_fields = ROUTE_FIELDS
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
    payload_version = fields.Integer(
        "Payload Version",
        required=True,
        default=lambda self: self._default_payload_version(),
        tracking=True,
        help="The version of the events' data this receiver takes: of each event "
        "type, the newest version not above it. New subscriptions take the "
        "newest stable version.",
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

    @api.model
    def _default_payload_version(self):
        specs = self.env["retail.outbox.event.type"]._specs()
        return max((spec.default_version for spec in specs.values()), default=1)

    @api.constrains("url", "delivery_mode")
    def _check_url(self):
        for sub in self:
            problem = sub._transport().check(sub)
            if problem:
                raise ValidationError(problem)

    @api.constrains("payload_version")
    def _check_payload_version(self):
        if any(sub.payload_version < 1 for sub in self):
            raise ValidationError(_("Payload versions start at 1."))

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
        """{event type: (Route, ...)} of the active subscriptions, each with
        the scope its type's routing gives it (lib/routing.py; a subscription
        whose backend takes several scopes has a route per scope) and the
        version of the type's data it takes."""
        specs = self.env["retail.outbox.event.type"]._specs()
        routes = {}
        # sudo: routes are the same for whoever's change writes an event
        for sub in self.sudo().search([("active", "=", True)]):
            for event_type in sub.event_type_ids.mapped("code"):
                spec = specs[event_type]
                rule = spec.routing
                # One route per scope the backend takes (several: one each).
                for value in rule.backend_values(sub.backend_id):
                    route = Route(
                        sub.id,
                        sub.backend_id.id,
                        sub.company_id.id,
                        rule.route_scope(value),
                        versions.pick(spec.versions, sub.payload_version),
                    )
                    routes.setdefault(event_type, []).append(route)
        return {event_type: tuple(r) for event_type, r in routes.items()}

    @api.model
    def _wanted_scopes(self, event_type):
        """The ids of the scope records some route of ``event_type`` takes
        (the pricelists whose prices are wanted)."""
        return {
            r.scope[1]
            for r in self._routes().get(event_type, ())
            if r.scope and r.scope[1]
        }

    @api.model_create_multi
    def create(self, vals_list):
        can_seal = self._can_seal()
        default_mode = self.env.context.get("default_delivery_mode", "webhook")
        for vals in vals_list:
            transport = transports.get(vals.get("delivery_mode", default_mode))
            if not (transport and transport.signed):
                continue  # no signing secret: the connector has its own credentials
            if not vals.get("signing_secret"):
                # Without a secrets key (a demo install) it stays unset until
                # someone rotates it; nothing is sent unsigned.
                if can_seal:
                    vals["signing_secret"] = standard_webhooks.generate_secret()
            else:
                vals["secret_shown"] = True  # the person typed it: they know it
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("signing_secret"):
            vals["secret_shown"] = True
        return super().write(vals)

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
