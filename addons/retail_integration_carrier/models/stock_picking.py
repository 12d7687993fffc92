import base64
import json

from odoo import _, api, fields, models
from odoo.tools import pdf

from odoo.addons.retail_integration_outbox.lib import payloads
from odoo.addons.retail_integration_outbox.models.tools import refs_data

from ..lib import tracking
from ..lib.shipping import AddressInvalid, ApiError

ADDRESS_KEY = "carrier-address"


def _moment(value):
    return fields.Datetime.to_string(value) if value else None


def _shipment_payload(picking, event_type):
    """The data of a shipment.* event about ``picking``, or None if its
    status no longer is one this type reports (changed again before commit)."""
    if tracking.EVENT_OF_STATUS.get(picking.retail_tracking_status) != event_type:
        return None
    return picking._retail_shipment_event_data()


for _type in tracking.EVENT_TYPES:
    payloads.register(_type)(
        lambda picking, scope, _t=_type: _shipment_payload(picking, _t)
    )


class StockPicking(models.Model):
    _inherit = "stock.picking"

    retail_shipment_ids = fields.One2many(
        "retail.carrier.shipment", "picking_id", string="Carrier Shipments"
    )
    retail_tracking_status = fields.Selection(
        tracking.STATUSES,
        "Tracking Status",
        readonly=True,
        copy=False,
        index=True,
        help="The packages' status together (delivered when all are); each "
        "package's history is on the Tracking tab.",
    )
    retail_tracking_status_at = fields.Datetime(
        "Tracking Status Since", readonly=True, copy=False
    )
    retail_tracking_event_ids = fields.One2many(
        "retail.carrier.tracking.event", "picking_id", string="Tracking History"
    )
    retail_label_count = fields.Integer(compute="_compute_retail_label_count")
    retail_carrier = fields.Boolean(related="carrier_id.retail_carrier")

    @api.depends("retail_shipment_ids.label_ids")
    def _compute_retail_label_count(self):
        for picking in self:
            picking.retail_label_count = len(picking.retail_shipment_ids.label_ids)

    def _retail_responsible(self):
        """Who follows this picking's carrier problems."""
        self.ensure_one()
        return (
            self.user_id
            or self.sale_id.user_id
            or self.carrier_id.retail_backend_id.user_id
            or self.env["res.users"]
        )

    # Validation: the address first, then the labels ---------------------

    def _retail_needs_label(self):
        self.ensure_one()
        return (
            self.carrier_id.retail_carrier
            and self.carrier_id.integration_level == "rate_and_ship"
            and self.picking_type_code == "outgoing"
            and not self.carrier_tracking_ref
        )

    def _retail_check_address(self):
        """None if the carrier can deliver to the picking's address, else
        why not (also filed in the inbox: "Fix the address and retry")."""
        self.ensure_one()
        carrier = self.carrier_id
        if carrier.retail_backend_id.state != "active":
            return None  # nothing is asked of a paused carrier: labels wait
        try:
            carrier.retail_backend_id._carrier_adapter().verify_address(
                carrier._retail_address(self.partner_id)
            )
        except AddressInvalid as err:
            cause = _(
                "%(carrier)s cannot deliver %(picking)s to %(partner)s: %(reason)s. "
                "Fix the address and retry.",
                carrier=carrier.name,
                picking=self.name,
                partner=self.partner_id.display_name,
                reason=err,
            )
            Exceptions = self.env["retail.sync.exception"]
            # sudo: inbox items are filed for the picking; users may only read them
            Exceptions.sudo()._report(
                cause,
                name=_("Address of %(picking)s refused", picking=self.name),
                backend=carrier.retail_backend_id,
                kind="data",
                document=self,
                source=self,
                key=ADDRESS_KEY,
                vals={"user_id": self._retail_responsible().id},
            )
            self.message_post(body=cause)
            return cause
        except ApiError:
            return None  # the carrier is busy: the label purchase retries
        self.env["retail.sync.exception"]._resolve_for(
            self, _("Resolved: the carrier accepts the address now.")
        )
        return None

    def button_validate(self):
        refused = [
            picking._retail_check_address()
            for picking in self
            if picking._retail_needs_label()
        ]
        refused = [cause for cause in refused if cause]
        if refused:
            # Kept ready: the notification says why, the inbox keeps it.
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "danger",
                    "sticky": True,
                    "title": _("The carrier refuses the address"),
                    "message": "\n".join(refused),
                },
            }
        return super().button_validate()

    def _retail_exception_retry(self):
        """The inbox's Retry of a refused address: check it again."""
        for picking in self.filtered("carrier_id.retail_carrier"):
            picking._retail_check_address()

    # Labels --------------------------------------------------------------

    def _retail_labels_bought(self, shipments):
        """A job bought labels the validation could not: note them."""
        self.ensure_one()
        numbers = [n for n in shipments.mapped("tracking_number") if n]
        known = (self.carrier_tracking_ref or "").split(",")
        new = [n for n in numbers if n not in known]
        if new:
            self.carrier_tracking_ref = ",".join([n for n in known if n] + new)
        self.message_post(
            body=_(
                "Label bought for %(picking)s: %(numbers)s",
                picking=self.name,
                numbers=", ".join(numbers),
            ),
            attachment_ids=shipments.label_ids.ids,
        )

    def action_retail_print_labels(self):
        """All labels of the picking in one click: one file to download
        (several PDF labels merged into one), else the list of files."""
        self.ensure_one()
        labels = self.retail_shipment_ids.filtered(
            lambda s: s.state == "bought"
        ).label_ids
        if len(labels) > 1 and all(a.mimetype == "application/pdf" for a in labels):
            labels = self._retail_merged_labels(labels) or labels
        if len(labels) == 1:
            return {
                "type": "ir.actions.act_url",
                "url": f"/web/content/{labels.id}?download=true",
                "target": "download",
            }
        return {
            "type": "ir.actions.act_window",
            "name": _("Labels"),
            "res_model": "ir.attachment",
            "views": [(False, "kanban"), (False, "list"), (False, "form")],
            "domain": [("id", "in", labels.ids)],
        }

    def _retail_merged_labels(self, labels):
        """One PDF of ``labels`` (kept beside them, replaced at each print);
        None if a file is not a PDF that can be read."""
        try:
            merged = pdf.merge_pdf([base64.b64decode(a.datas) for a in labels])
        except Exception:  # noqa: BLE001 - a carrier's odd PDF: print them one by one
            return None
        name = f"Labels-{self.name.replace('/', '_')}.pdf"
        Attachment = self.env["ir.attachment"]
        Attachment.search(
            [
                ("res_model", "=", self._name),
                ("res_id", "=", self.id),
                ("name", "=", name),
            ]
        ).unlink()
        return Attachment.create(
            {
                "name": name,
                "datas": base64.b64encode(merged),
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/pdf",
            }
        )

    def action_retail_open_shipments(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Carrier Shipments"),
            "res_model": "retail.carrier.shipment",
            "views": [(False, "list"), (False, "form")],
            "domain": [("picking_id", "=", self.id)],
        }

    def action_cancel(self):
        # A label bought for a picking that is cancelled is voided.
        shipments = self.retail_shipment_ids
        res = super().action_cancel()
        for shipment in shipments.filtered(lambda s: s.state in ("draft", "pending")):
            shipment.state = "cancelled"
        shipments.filtered(lambda s: s.state == "bought").action_void()
        return res

    # Tracking ------------------------------------------------------------

    def _retail_tracking_changed(self, shipment):
        """A package's status changed: the picking's status, its outbox
        event and, for a delivery exception, the inbox."""
        self.ensure_one()
        outbound = self.retail_shipment_ids.filtered(
            lambda s: not s.is_return and s.state == "bought"
        )
        status = tracking.aggregate(outbound.mapped("status")) or shipment.status
        if status == self.retail_tracking_status:
            return
        self.write(
            {
                "retail_tracking_status": status,
                "retail_tracking_status_at": max(
                    [s.status_at for s in outbound if s.status_at]
                    or [shipment.status_at]
                ),
            }
        )
        event_type = tracking.EVENT_OF_STATUS.get(status)
        if event_type:
            self.env["retail.outbox.event"]._capture(event_type, self)
        if status in tracking.EXCEPTION_STATUSES:
            self._retail_report_delivery_exception(shipment)
        elif status == tracking.DELIVERED:
            # sudo: the inbox items of this picking are closed on its behalf
            exceptions = (
                self.env["retail.sync.exception"]
                .sudo()
                .search(
                    [
                        ("res_model", "=", self._name),
                        ("res_id", "=", self.id),
                        ("kind", "=", "delivery"),
                        ("state", "in", ("new", "in_progress")),
                    ]
                )
            )
            exceptions.write({"state": "resolved"})
            for exception in exceptions:
                exception.message_post(body=_("Resolved: the shipment was delivered."))

    def _retail_report_delivery_exception(self, shipment):
        cause = _(
            "%(carrier)s reports a delivery exception for %(picking)s (%(number)s): "
            "%(message)s%(place)s. Contact the carrier or the customer.",
            carrier=self.carrier_id.name,
            picking=self.name,
            number=shipment.tracking_number,
            message=shipment.status_message or _("no detail given"),
            place=f" ({shipment.status_location})" if shipment.status_location else "",
        )
        Exceptions = self.env["retail.sync.exception"]
        # sudo: inbox items are filed for the picking; users may only read them
        Exceptions.sudo()._report(
            cause,
            name=_("Delivery exception: %(picking)s", picking=self.name),
            backend=shipment.backend_id,
            kind="delivery",
            document=self,
            key=f"carrier-delivery-exception:{shipment.id}",
            vals={"user_id": self._retail_responsible().id},
        )

    def _retail_shipment_event_data(self):
        self.ensure_one()
        order = self.sale_id
        outbound = self.retail_shipment_ids.filtered(
            lambda s: not s.is_return and s.state in ("bought", "voided")
        )
        newest = outbound.sorted(lambda s: s.status_at or fields.Datetime.now())[-1:]
        return {
            "picking": {
                "id": self.id,
                "name": self.name,
                "origin": self.origin or None,
            },
            "sale_order": {"name": order.name, "external_refs": refs_data(order)}
            if order
            else None,
            "carrier": {
                "name": self.carrier_id.name,
                "provider": self.carrier_id.retail_backend_id.provider or None,
            },
            "status": self.retail_tracking_status,
            "status_at": _moment(self.retail_tracking_status_at),
            "location": newest.status_location or None,
            "message": newest.status_message or None,
            "tracking_numbers": [s.tracking_number for s in outbound],
            "tracking_url": outbound[:1].tracking_url or None,
            "packages": [
                {
                    "name": s.name,
                    "tracking_number": s.tracking_number,
                    "tracking_url": s.tracking_url or None,
                    "status": s.status or None,
                    "status_at": _moment(s.status_at),
                }
                for s in outbound
            ],
        }

    def _retail_tracking_links(self):
        """carrier_tracking_url's value: one link, or Odoo's JSON list of
        [number, link] for several packages."""
        self.ensure_one()
        bought = self.retail_shipment_ids.filtered(
            lambda s: not s.is_return and s.state == "bought" and s.tracking_url
        )
        if len(bought) <= 1:
            return bought.tracking_url or False
        return json.dumps([[s.tracking_number, s.tracking_url] for s in bought])
