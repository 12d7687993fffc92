import base64
import hashlib
import logging
from datetime import timedelta

from psycopg2.errors import LockNotAvailable, SerializationFailure

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.retail_integration.lib import api_http

from ..lib import tracking
from ..lib.shipping import AddressInvalid, ApiError, Throttled, Unavailable

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
OPEN = ("draft", "pending")


class RetailCarrierShipment(models.Model):
    """One package of a picking at a carrier: its label, bought once,
    whatever fails on the way, and its tracking."""

    _name = "retail.carrier.shipment"
    _description = "Carrier Shipment (one package)"
    _inherit = ["mail.thread", "retail.correlated.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char("Package", required=True, readonly=True)
    picking_id = fields.Many2one(
        "stock.picking", required=True, readonly=True, index=True, ondelete="cascade"
    )
    carrier_id = fields.Many2one("delivery.carrier", required=True, readonly=True)
    backend_id = fields.Many2one(
        "retail.backend", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    sale_id = fields.Many2one(related="picking_id.sale_id")
    is_return = fields.Boolean("Return Label", readonly=True)
    sequence = fields.Integer(readonly=True)
    idempotency_key = fields.Char(
        required=True,
        readonly=True,
        copy=False,
        help="One per picking and package: the provider's reference of the "
        "shipment, so that a retry never buys a second label.",
    )
    weight = fields.Float(readonly=True, digits="Stock Weight")
    package_type_id = fields.Many2one("stock.package.type", readonly=True)
    state = fields.Selection(
        [
            ("draft", "To Buy"),
            ("pending", "Waiting to Retry"),
            ("bought", "Label Bought"),
            ("failed", "Failed"),
            ("voided", "Voided"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="draft",
        readonly=True,
        index=True,
        tracking=True,
        help="Waiting to Retry: the carrier was unreachable or busy; the label is "
        "bought by a job on the backend's channel, once.",
    )
    provider_ref = fields.Char("Provider Shipment", readonly=True, index=True)
    tracker_ref = fields.Char("Provider Tracker", readonly=True, index=True)
    tracking_number = fields.Char(readonly=True, index=True)
    tracking_url = fields.Char("Tracking Link", readonly=True)
    price = fields.Monetary(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    label_ids = fields.Many2many("ir.attachment", string="Labels", readonly=True)
    attempts = fields.Integer(readonly=True)
    next_attempt = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
    refund_status = fields.Char(readonly=True)
    status = fields.Selection(tracking.STATUSES, "Tracking Status", readonly=True)
    status_at = fields.Datetime("Status Since", readonly=True)
    status_location = fields.Char(readonly=True)
    status_message = fields.Char(readonly=True)
    last_tracked_at = fields.Datetime(
        "Last Tracking Update", readonly=True, help="When Odoo last heard of it."
    )
    event_ids = fields.One2many(
        "retail.carrier.tracking.event", "shipment_id", string="Tracking History"
    )

    _sql_constraints = [
        (
            "idempotency_key_uniq",
            "unique(idempotency_key)",
            "A package of a picking has one shipment.",
        ),
    ]

    @api.model
    def _key(self, picking, package_name, is_return=False):
        """The idempotency key of a package of a picking (stable across
        retries; unique across databases sharing one provider account)."""
        # sudo: system parameters are Settings'; the database's uuid is no secret
        params = self.env["ir.config_parameter"].sudo()
        dbuuid = params.get_param("database.uuid")
        text = (
            f"{dbuuid}|{picking.id}|{package_name}|{'return' if is_return else 'out'}"
        )
        return f"odoo-{picking.id}-" + hashlib.sha256(text.encode()).hexdigest()[:24]

    # Purchase ----------------------------------------------------------

    def _adapter(self):
        return self.backend_id._carrier_adapter()

    def _request(self):
        return self.carrier_id._retail_shipment_request(self)

    def _purchase_now(self):
        """Try to buy each open shipment's label now. An unreachable or busy
        carrier leaves it waiting for a job with backoff; an address it
        refuses, or another refusal, fails it (inbox). Never raises."""
        for shipment in self.filtered(lambda s: s.state in OPEN):
            shipment._purchase_once()
        return self

    def _purchase_once(self):
        self.ensure_one()
        # The carrier's calls carry the flow's id in X-Correlation-Id (the
        # JSON carrier; EasyPost's client sends its own headers).
        with api_http.correlation([self._flow_correlation_id()]):
            adapter = self._adapter()
            request = self._request()
            self.attempts += 1
            try:
                if self.backend_id.state != "active":
                    # A paused backend keeps its work until it is active again.
                    raise Unavailable(
                        _(
                            "The carrier backend %(backend)s is not active.",
                            backend=self.backend_id.name,
                        )
                    )
                purchase = None
                if self.provider_ref:
                    # An earlier attempt created (or maybe bought) it: look first.
                    purchase = adapter.lookup(self.provider_ref)
                if purchase is None:
                    if not self.provider_ref:
                        ref = adapter.create_shipment(request)
                        if ref:
                            self.provider_ref = ref
                    try:
                        purchase = adapter.buy(self.provider_ref, request)
                    except Unavailable:
                        # The answer may be lost after the label was bought.
                        if not self.provider_ref:
                            raise
                        purchase = adapter.lookup(self.provider_ref)
                        if purchase is None:
                            raise
            except (Throttled, Unavailable) as err:
                self._schedule_retry(err)
                return False
            except ApiError as err:
                self._fail(err)
                return False
            self._record_purchase(purchase)
            return True

    def _schedule_retry(self, err):
        retry_after = getattr(err, "retry_after", None)
        if self.attempts >= MAX_ATTEMPTS:
            self._fail(err, gave_up=True)
            return
        delay = tracking.backoff(self.attempts, retry_after)
        self.write(
            {
                "state": "pending",
                "last_error": str(err),
                "next_attempt": fields.Datetime.now() + timedelta(seconds=delay),
            }
        )
        backend = self.backend_id
        backend._ensure_technical_user()
        backend._with_delay(
            self.with_user(backend.technical_user_id),
            eta=delay,
            description=_("Buy the label of %(name)s", name=self.display_name),
            identity_key=f"retail_carrier_buy:{self.id}:{self.attempts}",
        )._job_purchase()

    def _job_purchase(self):
        """Job: buy the label of a shipment an earlier attempt left waiting."""
        self.ensure_one()
        self._lock_row()
        if self.state not in OPEN:
            return _("Nothing to do: the shipment is %(state)s.", state=self.state)
        if self.picking_id.state == "cancel":
            self.state = "cancelled"
            if self.provider_ref:
                # Bought before the picking was cancelled? Void it.
                self._void_if_bought()
            return _("The picking was cancelled: no label bought.")
        self._purchase_once()
        if self.state == "bought":
            self.picking_id._retail_labels_bought(self)
            return _("Label bought: %(number)s", number=self.tracking_number)
        return self.last_error

    def _void_if_bought(self):
        try:
            with api_http.correlation([self._flow_correlation_id()]):
                if self._adapter().lookup(self.provider_ref):
                    self.refund_status = self._adapter().void(self.provider_ref)
                    self.state = "voided"
        except ApiError as err:
            self.last_error = str(err)

    def _flow_correlation_id(self):
        return self.retail_correlation_id or self.picking_id.retail_correlation_id

    def _record_purchase(self, purchase):
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", purchase.currency or "")], limit=1)
        )
        attachments = self.env["ir.attachment"]
        prefix = (
            self.carrier_id.get_return_label_prefix()
            if self.is_return
            else self.carrier_id._get_delivery_label_prefix()
        )
        for n, label in enumerate(purchase.labels, 1):
            extension = "zpl" if label.format == "ZPL" else "pdf"
            suffix = f"-{n}" if len(purchase.labels) > 1 else ""
            attachments |= attachments.create(
                {
                    "name": f"{prefix}-{purchase.tracking_number}{suffix}.{extension}",
                    "datas": base64.b64encode(label.content),
                    "res_model": "stock.picking",
                    "res_id": self.picking_id.id,
                    "mimetype": "application/pdf"
                    if extension == "pdf"
                    else "text/plain",
                }
            )
        self.write(
            {
                "state": "bought",
                "provider_ref": purchase.provider_ref or self.provider_ref,
                "tracker_ref": purchase.tracker_ref,
                "tracking_number": purchase.tracking_number,
                "tracking_url": purchase.tracking_url
                or self.carrier_id._retail_tracking_url(purchase.tracking_number),
                "price": purchase.amount,
                "currency_id": (currency or self.company_id.currency_id).id,
                "label_ids": [(6, 0, attachments.ids)],
                "last_error": False,
                "next_attempt": False,
                # Odoo's own guess, not a carrier's scan: any scan replaces it.
                "status": tracking.PRE_TRANSIT,
                "status_at": False,
                "last_tracked_at": fields.Datetime.now(),
            }
        )
        self.env["retail.sync.exception"]._resolve_for(
            self, _("Resolved: the label was bought.")
        )

    def _fail(self, err, gave_up=False):
        if isinstance(err, AddressInvalid):
            cause = _(
                "%(carrier)s cannot deliver to the address of %(picking)s: "
                "%(reason)s. Fix the address and retry.",
                carrier=self.carrier_id.name,
                picking=self.picking_id.name,
                reason=err,
            )
        elif gave_up:
            cause = _(
                "%(carrier)s kept failing (%(reason)s) after %(count)s attempts: "
                "no label for %(picking)s. Retry when the carrier is back.",
                carrier=self.carrier_id.name,
                reason=err,
                count=self.attempts,
                picking=self.picking_id.name,
            )
        else:
            cause = _(
                "%(carrier)s refused the label of %(picking)s: %(reason)s",
                carrier=self.carrier_id.name,
                picking=self.picking_id.name,
                reason=err,
            )
        self.write({"state": "failed", "last_error": cause, "next_attempt": False})
        Exceptions = self.env["retail.sync.exception"]
        # sudo: inbox items are filed for the shipment; users may only read them
        Exceptions.sudo()._report(
            cause,
            name=_("No label for %(picking)s", picking=self.picking_id.name),
            backend=self.backend_id,
            kind="data" if not gave_up else "connection",
            document=self.picking_id,
            source=self,
            key=f"carrier-label:{type(err).__name__}",
            vals={"user_id": self.picking_id._retail_responsible().id},
        )
        self.message_post(body=cause)

    def _retail_exception_retry(self):
        """The inbox's Retry: try again now (after the address was fixed)."""
        for shipment in self:
            try:
                shipment._lock_row()
            except RetryableJobError as err:
                raise UserError(
                    _("A job is buying this label right now: try again in a moment.")
                ) from err
            if shipment.state not in ("failed", "pending"):
                continue
            shipment.write({"state": "draft", "attempts": 0})
            if shipment._purchase_once():
                shipment.picking_id._retail_labels_bought(shipment)

    def action_retry(self):
        self._retail_exception_retry()
        return True

    def action_void(self):
        for shipment in self.filtered(lambda s: s.state == "bought"):
            try:
                shipment.refund_status = shipment._adapter().void(shipment.provider_ref)
            except ApiError as err:
                raise UserError(
                    _("The carrier did not void the label: %(reason)s", reason=err)
                ) from err
            shipment.state = "voided"
            shipment.message_post(
                body=_(
                    "Label voided (refund %(status)s).", status=shipment.refund_status
                )
            )
        return True

    # Tracking ----------------------------------------------------------

    @api.model
    def _find_tracked(self, backend, update):
        domain = [
            ("backend_id", "=", backend.id),
            ("state", "in", ("bought", "voided")),
        ]
        if update.tracker_ref:
            found = self.search(
                domain + [("tracker_ref", "=", update.tracker_ref)], limit=1
            )
            if found:
                return found
        return self.search(
            domain + [("tracking_number", "=", update.tracking_number)], limit=1
        )

    def _apply_tracking(self, update):
        """Merge a provider's tracking report: new events into the history
        (each once), the status only if the report is newer (lib/tracking).
        Returns the new status, or None if it did not change."""
        self.ensure_one()
        self._lock_row()
        Event = self.env["retail.carrier.tracking.event"]
        added = Event._add(self, update.events)
        newest = tracking.latest(update.events)
        vals = {"last_tracked_at": fields.Datetime.now()}
        if update.public_url and not self.tracking_url:
            vals["tracking_url"] = update.public_url
        changed = None
        if newest and tracking.supersedes(
            self.status or None,
            self.status_at or None,
            newest.status,
            newest.occurred_at,
        ):
            changed = newest.status
            vals.update(
                status=newest.status,
                status_at=newest.occurred_at,
                status_location=newest.location or False,
                status_message=newest.message or False,
            )
        self.write(vals)
        if changed:
            self.picking_id._retail_tracking_changed(self)
        return changed, added

    def _lock_row(self):
        """One job on a shipment at a time (a purchase, a tracking report).
        A concurrent one holding it, or having changed it since this
        transaction began, makes this one retry in a second (not queue_job's
        5 s for a database conflict)."""
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT id FROM retail_carrier_shipment WHERE id = %s "
                    "FOR UPDATE NOWAIT",
                    [self.id],
                    log_exceptions=False,
                )
        except (LockNotAvailable, SerializationFailure) as err:
            raise RetryableJobError(
                _("Shipment %(name)s is being updated by another job.", name=self.id),
                seconds=1,
                ignore_retry=True,
            ) from err
        self.invalidate_recordset()

    def _refresh_tracking(self):
        """Job: ask the provider for the tracking of these shipments."""
        done = 0
        for shipment in self:
            try:
                update = shipment._adapter().track(
                    shipment.tracker_ref or shipment.provider_ref,
                    shipment.tracking_number,
                )
            except (Throttled, Unavailable) as err:
                # The rest waits for the next run: the provider is busy.
                _logger.info("Tracking refresh stopped: %s", err)
                break
            except ApiError as err:
                shipment.last_tracked_at = fields.Datetime.now()
                shipment.message_post(
                    body=_("Tracking refresh failed: %(reason)s", reason=err)
                )
                continue
            shipment._apply_tracking(update)
            done += 1
        return _("%(count)s shipments refreshed.", count=done)

    @api.model
    def _stale(self, backend):
        limit = fields.Datetime.now() - timedelta(hours=backend.carrier_poll_hours)
        return self.search(
            [
                ("backend_id", "=", backend.id),
                ("state", "=", "bought"),
                ("is_return", "=", False),
                ("status", "not in", list(tracking.FINAL)),
                "|",
                ("last_tracked_at", "=", False),
                ("last_tracked_at", "<", limit),
            ],
            order="last_tracked_at asc, id",
            limit=backend.carrier_poll_batch,
        )
