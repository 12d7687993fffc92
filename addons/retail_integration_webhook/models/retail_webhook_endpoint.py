import logging
import secrets
import time
import uuid
from datetime import timedelta

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import SQL, config

from ..lib import autocommit, buckets, schemes
from ..lib.ratelog import RateLimitedLog
from ..lib.request import Outcome, body_digest

_logger = logging.getLogger(__name__)
_rejection_log = RateLimitedLog(interval=60)

ROUTE = "/retail/webhook/"
JSON_TYPES = ("application/json",)


def global_max_body_size():
    """Largest body any endpoint may take, checked before the endpoint is known."""
    return int(config.get("retail_webhook_max_body_size") or 10 * 1024 * 1024)


def _new_token():
    return secrets.token_urlsafe(32)


def _reject(status, code, reason, **headers):
    return Outcome(status, {"error": code, "message": reason}, headers)


class RetailWebhookEndpoint(models.Model):
    """A URL a channel posts its webhooks to, and how to trust what it posts."""

    _name = "retail.webhook.endpoint"
    _description = "Inbound Webhook Endpoint"
    _inherit = ["mail.thread", "retail.secret.mixin"]
    _order = "name, id"
    _secret_fields = ("secret", "secret_previous")

    name = fields.Char(required=True, tracking=True)
    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True
    )
    active = fields.Boolean(default=True, tracking=True)
    token = fields.Char(
        required=True,
        copy=False,
        default=lambda self: _new_token(),
        readonly=True,
        groups="base.group_system",
    )
    retired_tokens = fields.Text(
        copy=False,
        readonly=True,
        groups="base.group_system",
        help="The tokens of the URLs this endpoint had before (one per line): "
        "webhooks a channel still sends to them can be removed there.",
    )
    url = fields.Char("Webhook URL", compute="_compute_url")
    scheme = fields.Selection(
        selection=lambda self: schemes.selection(),
        string="Signature Scheme",
        required=True,
        default="standard",
        tracking=True,
    )
    secret = fields.Char(
        "Signing Secret",
        compute="_compute_secret_fields",
        inverse="_inverse_secret_fields",
        help="The secret the channel signs with. Stored encrypted, never shown again.",
    )
    scheme_signs_timestamp = fields.Boolean(compute="_compute_scheme_signs_timestamp")
    secret_sealed = fields.Char(copy=False, groups="base.group_system")
    secret_is_set = fields.Boolean(compute="_compute_secret_is_set")
    secret_previous = fields.Char(
        "Previous Secret",
        compute="_compute_secret_fields",
        inverse="_inverse_secret_fields",
        help="Still accepted while the channel moves to the new secret, until "
        "the date below.",
    )
    secret_previous_sealed = fields.Char(copy=False, groups="base.group_system")
    secret_previous_is_set = fields.Boolean(compute="_compute_secret_is_set")
    previous_secret_until = fields.Datetime(
        "Previous Secret Accepted Until",
        copy=False,
        tracking=True,
        help="Set when a previous secret is saved, Rotation Grace hours ahead. "
        "After it (or when emptied), the previous secret is refused and erased.",
    )
    secret_grace_hours = fields.Integer(
        "Rotation Grace (hours)",
        default=24,
        help="How long a previous secret saved during a rotation is accepted.",
    )
    replay_window_hours = fields.Integer(
        "Duplicate Body Window (hours)",
        default=24,
        help="Shopify, WooCommerce and GitHub-style sign no timestamp, nor their "
        "delivery id header: a captured request can be sent again with a new id. "
        "A body already accepted within this window is answered as a duplicate "
        "and not stored again. 0 turns the check off.",
    )
    tolerance = fields.Integer(
        "Timestamp Tolerance (s)",
        default=300,
        help="How far a signed timestamp may be from now (Standard Webhooks, Stripe).",
    )
    max_body_size = fields.Integer("Maximum Body Size (bytes)", default=1024 * 1024)
    topics = fields.Char(
        "Accepted Topics",
        help="Comma-separated; empty accepts every topic. "
        "Others are stored as ignored.",
    )
    # Stored copies of what the accept path needs from the backend, so that
    # the endpoint's one look-up query brings them too.
    backend_state = fields.Selection(related="backend_id.state", store=True)
    job_channel = fields.Char(related="backend_id.job_channel", store=True)
    technical_user_id = fields.Many2one(
        related="backend_id.technical_user_id", store=True
    )
    rate_limit = fields.Float("Rate Limit (requests/s)", default=50.0)
    rate_burst = fields.Integer("Burst", default=100)
    message_count = fields.Integer(compute="_compute_message_count")
    rejected_count = fields.Integer("Rejected Requests", compute="_compute_runtime")
    last_rejected_at = fields.Datetime("Last Rejection", compute="_compute_runtime")
    last_rejection = fields.Char("Last Rejection Reason", compute="_compute_runtime")

    _RECEIVE_FIELDS = [
        "backend_id", "company_id", "scheme", "secret_sealed", "secret_previous_sealed",
        "tolerance", "max_body_size", "topics", "rate_limit", "rate_burst", "name",
        "backend_state", "job_channel", "technical_user_id", "previous_secret_until",
        "replay_window_hours",
    ]  # fmt: skip

    _sql_constraints = [
        ("token_uniq", "unique(token)", "The webhook token must be unique."),
        (
            "tolerance_positive",
            "CHECK(tolerance > 0)",
            "The tolerance must be positive.",
        ),
        (
            "size_positive",
            "CHECK(max_body_size > 0)",
            "The maximum body size must be positive.",
        ),
        (
            "rate_positive",
            "CHECK(rate_limit > 0 AND rate_burst >= 1)",
            "The rate limit must be positive.",
        ),
        (
            "grace_bounded",
            "CHECK(secret_grace_hours BETWEEN 1 AND 720)",
            "The rotation grace must be between 1 and 720 hours.",
        ),
        (
            "replay_window_bounded",
            "CHECK(replay_window_hours BETWEEN 0 AND 720)",
            "The duplicate body window must be between 0 and 720 hours.",
        ),
    ]

    def init(self):
        # Per-endpoint counters and token buckets, shared by all workers and only
        # read and written through _runtime_execute(). Unlogged: losing them in a
        # crash only resets the buckets and the rejection counts.
        self.env.cr.execute(
            SQL(
                """
            CREATE UNLOGGED TABLE IF NOT EXISTS retail_webhook_endpoint_runtime (
                endpoint_id integer PRIMARY KEY,
                %s,
                rejected_count integer NOT NULL DEFAULT 0,
                last_rejected_at timestamp,
                last_rejection varchar
            )
            """,
                buckets.COLUMNS,
            )
        )
        buckets.upgrade(self.env.cr, "retail_webhook_endpoint_runtime")

    @api.depends("token")
    def _compute_url(self):
        # sudo: web.base.url is a system parameter
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        for endpoint in self:
            # sudo: the token is a base.group_system field: shown only inside the URL
            token = endpoint.sudo().token
            endpoint.url = f"{base_url}{ROUTE}{token}" if token else False

    @api.depends("scheme")
    def _compute_scheme_signs_timestamp(self):
        for endpoint in self:
            scheme = schemes.SCHEMES.get(endpoint.scheme)
            endpoint.scheme_signs_timestamp = bool(scheme and scheme.signs_timestamp)

    def _compute_message_count(self):
        groups = self.env["retail.inbound.message"]._read_group(
            [("endpoint_id", "in", self.ids)], ["endpoint_id"], ["__count"]
        )
        counts = {endpoint.id: count for endpoint, count in groups}
        for endpoint in self:
            endpoint.message_count = counts.get(endpoint.id, 0)

    def _compute_runtime(self):
        rows = self._runtime_execute(
            """SELECT endpoint_id, rejected_count, last_rejected_at, last_rejection
               FROM retail_webhook_endpoint_runtime WHERE endpoint_id = ANY(%s)""",
            [self.ids],
        )
        rows = {row[0]: row[1:] for row in rows}
        for endpoint in self:
            count, when, reason = rows.get(endpoint.id, (0, False, False))
            endpoint.rejected_count = count
            endpoint.last_rejected_at = when
            endpoint.last_rejection = reason

    @api.model_create_multi
    def create(self, vals_list):
        self._clear_receive_cache()
        return super().create(vals_list)

    def _write_multi(self, vals_list):
        # Every stored change, the recomputed backend fields included.
        self._clear_receive_cache()
        return super()._write_multi(vals_list)

    def write(self, vals):
        vals = dict(vals)
        if vals.get("secret_previous"):
            # A previous secret is accepted for a bounded time only.
            hours = vals.get("secret_grace_hours") or max(
                self.mapped("secret_grace_hours") or [24]
            )
            vals.setdefault(
                "previous_secret_until", fields.Datetime.now() + timedelta(hours=hours)
            )
        # Emptying the previous secret (or its date) refuses and erases it; the
        # write-only field alone would keep an empty value's saved secret.
        forget = ("secret_previous" in vals and not vals["secret_previous"]) or (
            "previous_secret_until" in vals and not vals["previous_secret_until"]
        )
        if forget:
            vals.pop("secret_previous", None)
            vals["previous_secret_until"] = False
        res = super().write(vals)
        if forget:
            self._clear_secret("secret_previous")
        return res

    def action_clear_previous_secret(self):
        """Refuse the previous secret from now on, and erase it."""
        for endpoint in self.filtered("secret_previous_is_set"):
            endpoint.message_post(body=_("The previous secret was cleared."))
        self.write({"secret_previous": False})
        return True

    @api.model
    def _gc_previous_secrets(self):
        """Cron: erase the previous secrets whose acceptance is over."""
        # sudo: the cron erases expired secrets of every endpoint
        expired = self.sudo().search(
            [("previous_secret_until", "<=", fields.Datetime.now())]
        )
        expired.write({"previous_secret_until": False})
        return len(expired)

    def action_regenerate_token(self):
        for endpoint in self:
            # sudo: the tokens are base.group_system fields
            sealed = endpoint.sudo()
            sealed.write(
                {
                    "retired_tokens": "\n".join(
                        filter(None, [sealed.retired_tokens, sealed.token])
                    ),
                    "token": _new_token(),
                }
            )
            endpoint.message_post(
                body=_("New URL generated: the previous one stops working.")
            )
        return True

    def action_generate_secret(self):
        """Generate a Standard Webhooks secret and show it this once."""
        self.ensure_one()
        from odoo.addons.retail_integration.lib.standard_webhooks import generate_secret

        value = generate_secret()
        self.secret = value
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Copy the secret now: it will not be shown again"),
                "message": value,
                "sticky": True,
                "type": "warning",
            },
        }

    def action_open_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retail_integration_webhook.retail_inbound_message_action"
        )
        action["domain"] = [("endpoint_id", "=", self.id)]
        return action

    # Receiving ---------------------------------------------------------------

    @api.model
    def _receive(self, token, request):
        """Check one request, cheapest check first; store it if it passes.

        Returns the ``Outcome`` to answer. A rejected request creates nothing
        but a counter increment on its endpoint.
        """
        if request.method != "POST":
            return _reject(405, "method_not_allowed", "Use POST.", Allow="POST")
        if request.content_length and request.content_length > global_max_body_size():
            return _reject(413, "body_too_large", "The body is too large.")
        if request.content_length is None and request.headers.get("transfer-encoding"):
            # A chunked body says nothing of its size, and the server would read
            # it whole, however large: channels send a Content-Length.
            return _reject(
                411, "length_required", "Send the body with a Content-Length."
            )
        endpoint = self._find_by_token(token)
        if not endpoint:
            self._log_rejection(None, "unknown_endpoint")
            return _reject(404, "unknown_endpoint", "No webhook endpoint at this URL.")
        outcome = endpoint._check_and_store(request)
        if outcome.status >= 400:
            endpoint._note_rejection(outcome.body["error"])
        return outcome

    @api.model
    def _find_by_token(self, token):
        if not token or len(token) > 64:
            return self.browse()
        found = self._receive_settings().get(token)
        if not found:
            return self.browse()
        endpoint_id, values = found
        endpoint = self.browse(endpoint_id)
        cache = self.env.cache
        for name, value in values.items():
            field = self._fields[name]
            if not cache.contains(endpoint, field):  # a pending write wins
                cache.set(endpoint, field, value)
        return endpoint

    @tools.ormcache()
    def _receive_settings(self):
        """{token: (id, values)} of every active endpoint, cached per worker:
        the accept path reads no row to find its endpoint.

        One cache entry for all endpoints, so that requests with guessed
        tokens fill nothing. Every change of an endpoint or of its backend
        clears it (``_clear_receive_cache``), in every worker through Odoo's
        cache signalling.
        """
        endpoints = (
            # sudo: one settings map for every request and user; the token is a
            # base.group_system field
            self.sudo()
            .with_context(active_test=True)
            .search_fetch([], ["token", *self._RECEIVE_FIELDS])
        )
        return {
            endpoint.token: (
                endpoint.id,
                {
                    name: self.env.cache.get(endpoint, self._fields[name])
                    for name in self._RECEIVE_FIELDS
                },
            )
            for endpoint in endpoints
        }

    @api.model
    def _clear_receive_cache(self):
        # Now, for the rest of this transaction, and again once it commits:
        # in a threaded server, another thread may cache the old rows between
        # the two. Other workers clear theirs on their next request.
        self.env.registry.clear_cache()
        postcommit = self.env.cr.postcommit
        if not postcommit.data.get("retail_webhook_clear_cache"):
            postcommit.data["retail_webhook_clear_cache"] = True
            postcommit.add(self.env.registry.clear_cache)

    def _check_and_store(self, request):
        self.ensure_one()
        limit = self.max_body_size
        if request.content_length and request.content_length > limit:
            return _reject(413, "body_too_large", f"The body exceeds {limit} bytes.")
        is_ping = schemes.SCHEMES[self.scheme].is_ping
        if is_ping and is_ping(request.headers, request.form):
            return Outcome(200, {"status": "ping"})
        content_type = (
            request.headers.get("content-type", "").split(";")[0].strip().lower()
        )
        if content_type not in JSON_TYPES:
            return _reject(415, "unsupported_media_type", "Send application/json.")
        retry_after = self._take_rate_token()
        if retry_after:
            return _reject(
                429,
                "rate_limited",
                "Too many requests.",
                **{"Retry-After": str(retry_after)},
            )
        body = request.read_body(limit + 1)
        if len(body) > limit:
            return _reject(413, "body_too_large", f"The body exceeds {limit} bytes.")
        if not body:
            return _reject(400, "empty_body", "The body is empty.")
        try:
            verified = self._verify(request, body)
            text, payload = schemes.parse_json(body)
            return self._store(request, body, text, payload, verified)
        except schemes.Rejected as rejected:
            return _reject(rejected.status, rejected.code, rejected.reason)

    def _verify(self, request, body):
        try:
            secrets_ = [self._get_secret("secret")]
            until = self.previous_secret_until
            if until and until > fields.Datetime.now():
                secrets_.append(self._get_secret("secret_previous"))
            secrets_ = [s for s in secrets_ if s]
        except UserError as err:
            # The server's secrets key is missing, or is not the one that
            # sealed the secret: nothing can be checked. A 5xx: channels retry.
            self._report_configuration(
                "secret_unreadable",
                _("Webhook endpoint %(name)s cannot read its secret", name=self.name),
                _(
                    "Requests to %(name)s are refused (503) until its signing "
                    "secret can be read: %(reason)s",
                    name=self.name,
                    reason=err,
                ),
            )
            raise schemes.Rejected(
                503,
                "secret_unavailable",
                "The server cannot check signatures now; try again later.",
            ) from err
        if not secrets_:
            self._report_configuration(
                "no_secret",
                _("Webhook endpoint %(name)s has no secret", name=self.name),
                _(
                    "The webhook endpoint %(name)s has no signing secret, so it "
                    "refuses every request. Set the secret the channel signs with.",
                    name=self.name,
                ),
            )
            raise schemes.Rejected(
                401, "no_secret", "The endpoint has no signing secret yet."
            )
        signed = schemes.SignedRequest(
            headers=request.headers,
            body=body,
            secrets=secrets_,
            now=int(time.time()),
            tolerance=self.tolerance,
            url=request.url,
        )
        return schemes.SCHEMES[self.scheme].verify(signed)

    def _report_configuration(self, key, name, cause):
        """One exceptions inbox item per endpoint and ``key``, however many
        requests meet it."""
        self.env["retail.sync.exception"]._report(
            cause,
            name=name,
            backend=self.backend_id,
            kind="configuration",
            source=self,
            key=key,
        )

    def _store(self, request, body, text, payload, verified):
        topic, delivery_id = schemes.message_keys(verified, payload, body)
        accepted = [t.strip() for t in (self.topics or "").split(",") if t.strip()]
        state = "queued"
        if accepted and topic not in accepted:
            state = "ignored"
        elif self.backend_state != "active":
            state = "received"  # kept until the backend is active again
        # A channel echoing the id of an event Odoo sent it continues that chain.
        correlation_id = schemes.echoed_correlation_id(request.headers)
        correlation_id = correlation_id or uuid.uuid4().hex
        body_hash = body_digest(body)
        body_key = None
        if (
            self.replay_window_hours
            and not schemes.SCHEMES[self.scheme].signs_timestamp
        ):
            body_key = body_hash
        Message = self.env["retail.inbound.message"]
        values = dict(
            aggregate_key=Message._aggregate_key(topic, payload),
            topic=topic,
            delivery_id=delivery_id,
            body=text,
            body_hash=body_hash,
            body_key=body_key,
            headers=request.stored_headers(),
            state=state,
            correlation_id=correlation_id,
        )
        message = Message._insert_once(endpoint=self, alone=True, **values)
        if message is None and body_key and self._expire_body_key(body_key):
            # In this transaction, which holds the expired row's lock.
            message = Message._insert_once(endpoint=self, **values)
        if message is None:
            return self._answer_duplicate(delivery_id, body_hash)
        status = {"queued": "accepted", "received": "accepted", "ignored": "ignored"}[
            state
        ]
        return Outcome(
            202,
            {"status": status, "correlation_id": correlation_id},
            {"X-Correlation-Id": correlation_id},
        )

    def _expire_body_key(self, body_key):
        """Free ``body_key`` if the message holding it is older than the
        duplicate window; whether it was."""
        self.env.cr.execute(
            """UPDATE retail_inbound_message SET body_key = NULL
               WHERE endpoint_id = %s AND body_key = %s AND received_at < %s
               RETURNING id""",
            [
                self.id,
                body_key,
                fields.Datetime.now() - timedelta(hours=self.replay_window_hours),
            ],
        )
        return bool(self.env.cr.fetchall())

    def _answer_duplicate(self, delivery_id, body_hash):
        """The answer to a message the endpoint already holds or held: by its
        delivery id (with the same body, else a conflict), also after the
        message was deleted (its tombstone), or by its body within the
        duplicate window."""
        self.env.cr.execute(
            """SELECT body_hash FROM retail_inbound_message
               WHERE endpoint_id = %(id)s AND delivery_id = %(delivery_id)s
               UNION ALL
               SELECT body_hash FROM retail_inbound_tombstone
               WHERE endpoint_id = %(id)s AND delivery_id = %(delivery_id)s
               LIMIT 1""",
            {"id": self.id, "delivery_id": delivery_id},
        )
        row = self.env.cr.fetchone()
        if row and row[0] != body_hash:
            return _reject(
                409,
                "delivery_id_reused",
                "This delivery id came before with another body.",
            )
        return Outcome(200, {"status": "duplicate"})

    def _runtime_execute(self, query, params):
        """Run one statement on the runtime table, in a transaction of its own.

        The table is updated by every request of every worker: inside the
        request's REPEATABLE READ transaction, concurrent updates of one row
        would fail with serialization errors, and a rejected request's count
        would be rolled back with it. Each statement runs on the worker's own
        autocommit connection as a READ COMMITTED transaction, one round trip.
        """
        return autocommit.execute(self.env.cr.dbname, query, params)

    def _take_rate_token(self):
        """Token bucket shared by all workers (lib/buckets.py); 0 if allowed,
        else seconds to wait."""
        self.ensure_one()
        return buckets.take(
            self.env.cr.dbname,
            "retail_webhook_endpoint_runtime",
            "endpoint_id",
            self.id,
            self.rate_limit,
            self.rate_burst,
        )

    def _note_rejection(self, code):
        self.ensure_one()
        self._runtime_execute(
            """
            INSERT INTO retail_webhook_endpoint_runtime AS r
                (endpoint_id, tokens, rejected_count, last_rejected_at,
                 last_rejection)
            VALUES (%(id)s, %(burst)s, 1, now() at time zone 'UTC', %(code)s)
            ON CONFLICT (endpoint_id) DO UPDATE SET
                rejected_count = r.rejected_count + 1,
                last_rejected_at = EXCLUDED.last_rejected_at,
                last_rejection = EXCLUDED.last_rejection
            """,
            {"id": self.id, "burst": float(self.rate_burst), "code": code},
        )
        self._log_rejection(self, code)

    @api.model
    def _log_rejection(self, endpoint, code):
        key = (endpoint.id if endpoint else None, code)
        held_back = _rejection_log.should_log(key)
        if held_back is not None:
            _logger.warning(
                "Webhook rejected (%s) on endpoint %s; "
                "%s similar rejection(s) not logged",
                code,
                endpoint.id if endpoint else "unknown",
                held_back,
            )
