from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib.shipping import (
    LABEL_FORMATS,
    Address,
    AddressInvalid,
    ApiError,
    CustomsItem,
    Parcel,
    ShipmentRequest,
    pick_rate,
)

# delivery_type → the backend provider whose adapter it uses.
DELIVERY_TYPES = {"retail_easypost": "easypost", "retail_json": "carrier_json"}


class DeliveryCarrier(models.Model):
    """Odoo's shipping method as the face of a carrier backend: the sale
    order's rate, the picking's label, tracking link, cancel and return
    label, through the backend's provider adapter (lib/)."""

    _inherit = "delivery.carrier"

    delivery_type = fields.Selection(
        selection_add=[
            ("retail_easypost", "EasyPost (Retail Integration)"),
            ("retail_json", "Generic JSON carrier (Retail Integration)"),
        ],
        ondelete={
            "retail_easypost": lambda recs: recs.write(
                {"delivery_type": "fixed", "fixed_price": 0}
            ),
            "retail_json": lambda recs: recs.write(
                {"delivery_type": "fixed", "fixed_price": 0}
            ),
        },
    )
    retail_carrier = fields.Boolean(compute="_compute_retail_carrier", store=True)
    retail_backend_id = fields.Many2one(
        "retail.backend",
        "Carrier Backend",
        domain="[('channel_type', '=', 'carrier')]",
        help="Its API URL, encrypted API key, job channel, responsible and inbox.",
    )
    retail_provider_carrier = fields.Char(
        "Carrier at the Provider",
        help="EasyPost: the carrier of the rate (USPS, UPS, DHLExpress...). Empty: "
        "any.",
    )
    retail_service = fields.Char(
        "Service Level",
        help="The rate's service (Priority, Ground, Express...). Empty: the "
        "cheapest rate.",
    )
    retail_label_format = fields.Selection(
        [(f, f) for f in LABEL_FORMATS],
        "Label Format",
        default="PDF",
        help="ZPL for thermal printers, where the provider offers it.",
    )
    retail_default_package_type_id = fields.Many2one(
        "stock.package.type",
        "Default Package",
        help="Dimensions of a parcel packed without a package type.",
    )
    retail_tracking_url = fields.Char(
        "Tracking Link Template",
        help="For carriers that send no tracking link: {number} is replaced by "
        "the tracking number.",
    )

    @api.depends("delivery_type")
    def _compute_retail_carrier(self):
        for carrier in self:
            carrier.retail_carrier = carrier.delivery_type in DELIVERY_TYPES

    @api.depends("delivery_type")
    def _compute_can_generate_return(self):
        res = super()._compute_can_generate_return()
        for carrier in self.filtered(lambda c: c.delivery_type in DELIVERY_TYPES):
            carrier.can_generate_return = True
        return res

    @api.depends("delivery_type")
    def _compute_supports_shipping_insurance(self):
        res = super()._compute_supports_shipping_insurance()
        for carrier in self.filtered(lambda c: c.delivery_type in DELIVERY_TYPES):
            carrier.supports_shipping_insurance = True
        return res

    # Requests ----------------------------------------------------------

    def _retail_backend(self):
        self.ensure_one()
        backend = self.retail_backend_id
        if not backend:
            raise UserError(
                _(
                    "The shipping method %(name)s has no carrier backend.",
                    name=self.name,
                )
            )
        return backend

    @api.model
    def _retail_address(self, partner):
        return Address(
            name=partner.name or partner.commercial_partner_id.name or "",
            company=partner.commercial_partner_id.name
            if partner.commercial_partner_id != partner
            else "",
            street1=partner.street or "",
            street2=partner.street2 or "",
            city=partner.city or "",
            state=partner.state_id.code or "",
            zip=partner.zip or "",
            country=partner.country_id.code or "",
            phone=partner.phone or partner.mobile or "",
            email=partner.email or "",
        )

    def _retail_parcel(self, weight, package_type):
        package_type = package_type or self.retail_default_package_type_id
        weight_uom = self.env[
            "product.template"
        ]._get_weight_uom_id_from_ir_config_parameter()
        length_uom = self.env[
            "product.template"
        ]._get_length_uom_id_from_ir_config_parameter()
        kg = self.env.ref("uom.product_uom_kgm")
        cm = self.env.ref("uom.product_uom_cm")

        def to_cm(value):
            return length_uom._compute_quantity(value or 0.0, cm, round=False)

        return Parcel(
            weight_kg=weight_uom._compute_quantity(weight or 0.0, kg, round=False),
            length_cm=to_cm(package_type.packaging_length),
            width_cm=to_cm(package_type.width),
            height_cm=to_cm(package_type.height),
        )

    def _retail_customs(self, commodities, sender, recipient, company):
        """Customs lines when the parcel leaves the sender's country."""
        if not recipient.country or sender.country == recipient.country:
            return []
        kg = self.env.ref("uom.product_uom_kgm")
        weight_uom = self.env[
            "product.template"
        ]._get_weight_uom_id_from_ir_config_parameter()
        items = []
        for commodity in commodities:
            product = commodity.product_id
            items.append(
                CustomsItem(
                    description=product.name,
                    quantity=int(commodity.qty),
                    value=commodity.monetary_value * commodity.qty,
                    weight_kg=weight_uom._compute_quantity(
                        product.weight * commodity.qty, kg, round=False
                    ),
                    hs_code=product.hs_code or "",
                    origin_country=commodity.country_of_origin or sender.country,
                    currency=company.currency_id.name,
                )
            )
        return items

    def _retail_insurance(self, value):
        return value * self.shipping_insurance / 100 if self.shipping_insurance else 0.0

    def _retail_sender(self, warehouse, company):
        return self._retail_address(warehouse.partner_id or company.partner_id)

    def _retail_order_request(self, order):
        self.ensure_one()
        package_type = (
            self.retail_default_package_type_id or self.env["stock.package.type"]
        )
        [package, *_rest] = self._get_packages_from_order(order, package_type)
        weight = sum(p.weight for p in [package, *_rest])
        sender = self._retail_sender(order.warehouse_id, order.company_id)
        recipient = self._retail_address(order.partner_shipping_id)
        commodities = self._get_commodities_from_order(order)
        return ShipmentRequest(
            reference=f"rate-{order.id}",
            sender=sender,
            recipient=recipient,
            parcel=self._retail_parcel(weight, package_type),
            carrier=self.retail_provider_carrier or "",
            service=self.retail_service or "",
            label_format=self.retail_label_format or "PDF",
            customs=self._retail_customs(
                commodities, sender, recipient, order.company_id
            ),
            customs_signer=order.company_id.name,
        )

    def _retail_shipment_request(self, shipment):
        """The request of a package's shipment (``retail.carrier.shipment``)."""
        self.ensure_one()
        picking = shipment.picking_id
        package = self._retail_packages(picking).get(shipment.name)
        sender = self._retail_sender(
            picking.picking_type_id.warehouse_id, picking.company_id
        )
        recipient = self._retail_address(picking.partner_id)
        commodities = package.commodities if package else []
        value = sum(c.monetary_value * c.qty for c in commodities)
        return ShipmentRequest(
            reference=shipment.idempotency_key,
            sender=sender,
            recipient=recipient,
            parcel=self._retail_parcel(shipment.weight, shipment.package_type_id),
            carrier=self.retail_provider_carrier or "",
            service=self.retail_service or "",
            label_format=self.retail_label_format or "PDF",
            customs=self._retail_customs(
                commodities, sender, recipient, picking.company_id
            ),
            customs_signer=picking.company_id.name,
            insurance=self._retail_insurance(value),
            currency=picking.company_id.currency_id.name,
            is_return=shipment.is_return,
        )

    def _retail_packages(self, picking):
        """{package name: DeliveryPackage} of the picking (Odoo's own split:
        one per package, plus the bulk content)."""
        package_type = (
            self.retail_default_package_type_id or self.env["stock.package.type"]
        )
        packages = self._get_packages_from_picking(picking, package_type)
        return {p.name or _("Parcel"): p for p in packages}

    def _retail_shipments(self, picking, is_return=False):
        """The shipments of ``picking``, one per package, created once."""
        self.ensure_one()
        backend = self._retail_backend()
        Shipment = self.env["retail.carrier.shipment"]
        existing = picking.retail_shipment_ids.filtered(
            lambda s: s.is_return == is_return and s.state != "cancelled"
        )
        if existing:
            return existing
        packages = self._retail_packages(picking)
        if is_return:
            weight = sum(p.weight for p in packages.values())
            first = next(iter(packages.values()))
            packages = {_("Return"): first}
            weights = {_("Return"): weight}
        else:
            weights = {name: p.weight for name, p in packages.items()}
        vals = []
        for sequence, (name, package) in enumerate(packages.items()):
            package_type = self.env["stock.package.type"]
            if package.dimension and any(package.dimension.values()):
                package_type = self.env["stock.package.type"].search(
                    [
                        ("packaging_length", "=", package.dimension["length"]),
                        ("width", "=", package.dimension["width"]),
                        ("height", "=", package.dimension["height"]),
                    ],
                    limit=1,
                )
            vals.append(
                {
                    "name": name,
                    "picking_id": picking.id,
                    "carrier_id": self.id,
                    "backend_id": backend.id,
                    "company_id": picking.company_id.id,
                    "sequence": sequence,
                    "is_return": is_return,
                    "weight": weights[name],
                    "package_type_id": package_type.id,
                    "idempotency_key": Shipment._key(picking, name, is_return),
                }
            )
        return Shipment.create(vals)

    def _retail_tracking_url(self, number):
        template = self.retail_tracking_url
        return template.replace("{number}", number) if template and number else False

    # Odoo's provider interface, shared by both delivery types -------------

    def _retail_rate_shipment(self, order):
        if self.retail_backend_id and self.retail_backend_id.state != "active":
            return self._retail_rate_error(
                _(
                    "The carrier backend %(backend)s is not active.",
                    backend=self.retail_backend_id.name,
                )
            )
        try:
            request = self._retail_order_request(order)
            rates = self._retail_backend()._carrier_adapter().rates(request)
        except AddressInvalid as err:
            return self._retail_rate_error(
                _("The carrier cannot deliver to this address: %(reason)s", reason=err)
            )
        except ApiError as err:
            return self._retail_rate_error(
                _("The carrier gave no rate: %(reason)s", reason=err)
            )
        except UserError as err:
            return self._retail_rate_error(err.args[0])
        rate = pick_rate(rates, self.retail_provider_carrier, self.retail_service)
        if rate is None:
            return self._retail_rate_error(
                _(
                    "The carrier offers no %(service)s rate for this order.",
                    service=" ".join(
                        filter(
                            None, [self.retail_provider_carrier, self.retail_service]
                        )
                    )
                    or _("matching"),
                )
            )
        company_currency = order.company_id.currency_id
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", rate.currency)], limit=1)
        )
        price = rate.amount
        if currency and currency != company_currency:
            price = currency._convert(
                price, company_currency, order.company_id, fields.Date.today()
            )
        return {
            "success": True,
            "price": price,
            "error_message": False,
            "warning_message": False,
        }

    @api.model
    def _retail_rate_error(self, message):
        return {
            "success": False,
            "price": 0.0,
            "error_message": message,
            "warning_message": False,
        }

    def _retail_send_shipping(self, pickings):
        results = []
        for picking in pickings:
            shipments = self._retail_shipments(picking)._purchase_now()
            bought = shipments.filtered(lambda s: s.state == "bought")
            price = 0.0
            for shipment in bought:
                price += shipment.currency_id._convert(
                    shipment.price,
                    picking.company_id.currency_id,
                    picking.company_id,
                    fields.Date.today(),
                )
            if bought:
                picking.message_post(
                    body=_(
                        "Labels bought: %(numbers)s",
                        numbers=", ".join(bought.mapped("tracking_number")),
                    ),
                    attachment_ids=bought.label_ids.ids,
                )
            waiting = shipments - bought
            if waiting.filtered(lambda s: s.state == "pending"):
                picking.message_post(
                    body=_(
                        "The carrier is unreachable or busy: the labels of "
                        "%(packages)s are bought by a retry job, once.",
                        packages=", ".join(waiting.mapped("name")),
                    )
                )
            if self.return_label_on_delivery:
                # Its failures wait in the inbox: the delivery is not held up.
                self._retail_shipments(picking, is_return=True)._purchase_now()
            results.append(
                {
                    "exact_price": price,
                    "tracking_number": ",".join(bought.mapped("tracking_number"))
                    or False,
                }
            )
        return results

    def _retail_return_label(self, picking):
        shipments = self._retail_shipments(picking, is_return=True)._purchase_now()
        failed = shipments.filtered(lambda s: s.state == "failed")
        if failed:
            raise UserError(failed[0].last_error)
        return shipments

    def _retail_get_return_label(
        self, pickings, tracking_number=None, origin_date=None
    ):
        for picking in pickings:
            self._retail_return_label(picking)

    def _retail_get_tracking_link(self, picking):
        return picking._retail_tracking_links()

    def _retail_cancel_shipment(self, pickings):
        for picking in pickings:
            shipments = picking.retail_shipment_ids.filtered(lambda s: not s.is_return)
            shipments.filtered(lambda s: s.state in ("draft", "pending")).write(
                {"state": "cancelled"}
            )
            shipments.filtered(lambda s: s.state == "bought").action_void()

    # The methods Odoo looks up by delivery type ---------------------------

    def retail_easypost_rate_shipment(self, order):
        return self._retail_rate_shipment(order)

    def retail_easypost_send_shipping(self, pickings):
        return self._retail_send_shipping(pickings)

    def retail_easypost_get_tracking_link(self, picking):
        return self._retail_get_tracking_link(picking)

    def retail_easypost_cancel_shipment(self, pickings):
        return self._retail_cancel_shipment(pickings)

    def retail_easypost_get_return_label(
        self, pickings, tracking_number=None, origin_date=None
    ):
        return self._retail_get_return_label(pickings, tracking_number, origin_date)

    def retail_json_rate_shipment(self, order):
        return self._retail_rate_shipment(order)

    def retail_json_send_shipping(self, pickings):
        return self._retail_send_shipping(pickings)

    def retail_json_get_tracking_link(self, picking):
        return self._retail_get_tracking_link(picking)

    def retail_json_cancel_shipment(self, pickings):
        return self._retail_cancel_shipment(pickings)

    def retail_json_get_return_label(
        self, pickings, tracking_number=None, origin_date=None
    ):
        return self._retail_get_return_label(pickings, tracking_number, origin_date)
