from collections import defaultdict

from odoo import _, api, models, tools
from odoo.exceptions import UserError

from odoo.addons.retail_integration.exceptions import RetailDataError

from ..lib.canonical import totals_match

ADDRESS_FIELDS = ("street", "street2", "city", "zip", "country_id", "state_id")


class UnknownProductError(RetailDataError):
    """No product matches a line: one inbox item per SKU, which offers to map
    the SKU and retry every order that failed on it."""

    def __init__(self, message, sku, product_ref):
        super().__init__(
            message,
            kind="mapping",
            key=f"unknown-sku:{sku or ''}:{product_ref or ''}",
            vals={"storefront_sku": sku, "storefront_product_ref": product_ref},
        )
        self.sku = sku
        self.product_ref = product_ref


class RetailStorefrontImporter(models.AbstractModel):
    """Turns a canonical storefront order into a sale order, idempotently.

    One importer for every provider: the mappers in ``lib/mappers.py`` make the
    canonical order, this applies it. Work on one channel order is serialised
    by the external reference lock, so that its create, paid and cancel
    messages, in any order or at the same time, end in one right sale order.
    """

    _name = "retail.storefront.importer"
    _description = "Storefront Order Importer"

    # Entry points ------------------------------------------------------------

    @api.model
    def _import_order(self, backend, order, restore=False):
        """Create or update the sale order of ``order``; (sale order, summary).

        A channel order deleted before it was imported is not imported, unless
        ``restore`` (the channel restored it), which also reopens its cancelled
        sale order if the channel order is not cancelled."""
        self = self.with_company(backend.company_id)
        refs = self.env["retail.external.ref"]
        refs._lock_external_id(backend, "sale.order", order.external_id)
        sale = refs._find_record(backend, "sale.order", order.external_id).exists()
        if not sale:
            deleted = refs._deleted_ref(backend, "sale.order", order.external_id)
            if deleted and not restore:
                return sale, _(
                    "Order %(order)s was deleted on the channel before it was "
                    "imported: not imported unless the channel restores it.",
                    order=order.name,
                )
            deleted.unlink()
        if (
            sale
            and order.updated_at
            and sale.retail_updated_at
            and (order.updated_at < sale.retail_updated_at)
        ):
            return sale, _(
                "%(order)s: an older version of the channel order; %(sale)s is newer "
                "and kept.",
                order=order.name,
                sale=sale.name,
            )
        done = []
        if restore and sale.state == "cancel" and order.status != "cancelled":
            sale.action_draft()
            done.append(_("reopened %(sale)s", sale=sale.name))
        if not sale:
            sale = self._create_sale_order(backend, order)
            refs._bind(backend, sale, order.external_id)
            done.append(_("created %(sale)s", sale=sale.name))
        elif sale.retail_lines_hash != order.lines_fingerprint():
            if sale.state in ("draft", "sent"):
                self._replace_lines(backend, order, sale)
                done.append(_("updated the lines of %(sale)s", sale=sale.name))
            else:
                self._report_edited(backend, order, sale)
                done.append(
                    _("reported a change of the confirmed %(sale)s", sale=sale.name)
                )
        else:
            done.append(_("%(sale)s unchanged", sale=sale.name))
        sale.write(
            {
                "retail_payment_state": order.financial_status,
                "retail_channel_state": order.status,
                "retail_updated_at": order.updated_at or sale.retail_updated_at,
                "retail_order_name": order.name,
            }
        )
        done.extend(self._apply_status(backend, order, sale))
        return sale, _(
            "Order %(order)s: %(done)s.", order=order.name, done=", ".join(done)
        )

    @api.model
    def _delete_order(self, backend, external_id):
        """The channel deleted an order: cancel its sale order, or, if it was
        never imported, mark it so that an older version arriving later is
        not imported; (sale order, summary)."""
        self = self.with_company(backend.company_id)
        refs = self.env["retail.external.ref"]
        refs._lock_external_id(backend, "sale.order", external_id)
        sale = refs._find_record(backend, "sale.order", external_id).exists()
        if not sale:
            refs._bind_deleted(backend, "sale.order", external_id)
            return sale, _(
                "Channel order %(id)s was never imported: nothing to cancel. Its "
                "versions arriving later are ignored unless the channel restores it.",
                id=external_id,
            )
        sale.retail_channel_state = "cancelled"
        return sale, self._cancel(backend, sale, _("the channel deleted it"))

    @api.model
    def _record_refund(self, backend, order_external_id, refund_id, refunded):
        """A refund made on the channel (Shopify ``refunds/create``)."""
        self = self.with_company(backend.company_id)
        refs = self.env["retail.external.ref"]
        refs._lock_external_id(backend, "sale.order", order_external_id)
        sale = refs._find_record(backend, "sale.order", order_external_id).exists()
        if not sale:
            return sale, None
        refunds = dict(sale.retail_refunds or {})
        if refund_id in refunds:
            return sale, _("Refund %(id)s was already recorded.", id=refund_id)
        refunds[refund_id] = str(refunded)
        total = sum(float(value) for value in refunds.values())
        rounding = sale.currency_id.rounding
        full = (
            tools.float_compare(total, sale.amount_total, precision_rounding=rounding)
            >= 0
        )
        sale.write(
            {
                "retail_refunds": refunds,
                "retail_payment_state": "refunded" if full else "partially_refunded",
            }
        )
        sale.message_post(
            body=_(
                "The channel refunded %(amount)s %(currency)s (refund %(id)s).",
                amount=refunded,
                currency=sale.currency_id.name,
                id=refund_id,
            )
        )
        self._report_refund(backend, sale)
        return sale, _(
            "Refund %(id)s of %(amount)s recorded on %(sale)s.",
            id=refund_id,
            amount=refunded,
            sale=sale.name,
        )

    # Sale order --------------------------------------------------------------

    def _create_sale_order(self, backend, order):
        partner = self._customer(backend, order)
        invoice = self._address(partner, order.billing, "invoice", order.name)
        delivery = self._address(
            partner, order.shipping_address, "delivery", order.name
        )
        vals = {
            "partner_id": partner.id,
            "partner_invoice_id": invoice.id,
            "partner_shipping_id": delivery.id,
            "company_id": backend.company_id.id,
            "pricelist_id": self._pricelist(backend, order).id,
            "client_order_ref": order.name,
            "origin": f"{backend.name}: {order.name}"[:256],
            "retail_backend_id": backend.id,
            "retail_order_name": order.name,
            "user_id": False,
        }
        if backend.warehouse_id:
            vals["warehouse_id"] = backend.warehouse_id.id
        if backend.team_id:
            vals["team_id"] = backend.team_id.id
        if backend.storefront_fiscal_position_id:
            vals["fiscal_position_id"] = backend.storefront_fiscal_position_id.id
        if order.note:
            vals["note"] = order.note
        sale = self.env["sale.order"].create(vals)
        self._replace_lines(backend, order, sale)
        return sale

    def _replace_lines(self, backend, order, sale):
        sale.order_line.unlink()
        sale.write({"order_line": self._line_commands(backend, order, sale)})
        sale.retail_lines_hash = order.lines_fingerprint()
        rounding = sale.currency_id.rounding
        if not totals_match(sale.amount_total, order.total, rounding):
            raise UserError(
                _(
                    "Order %(order)s: Odoo computes a total of %(odoo)s %(currency)s, "
                    "the channel charged %(channel)s. Check the products' taxes, "
                    "the fiscal position and whether the channel's prices include "
                    "tax, then retry.",
                    order=order.name,
                    odoo=sale.amount_total,
                    channel=order.total,
                    currency=sale.currency_id.name,
                )
            )

    def _line_commands(self, backend, order, sale):
        fiscal_position = sale.fiscal_position_id
        lines, discounts = [], defaultdict(float)
        for line in order.lines:
            product = self._product(backend, order, line)
            taxes = self._taxes(product, fiscal_position, order)
            lines.append(
                {
                    "product_id": product.id,
                    "product_uom_qty": float(line.quantity),
                    "price_unit": float(line.unit_price),
                    "tax_id": [(6, 0, taxes.ids)],
                }
            )
            if line.discount:
                discounts[(line.discount_label, tuple(taxes.ids))] += float(
                    line.discount
                )
        if discounts:
            product = self._setting_product(backend, "storefront_discount_product_id")
            for (label, tax_ids), value in discounts.items():
                name = _("Discount %(label)s", label=label) if label else _("Discount")
                lines.append(self._charge_vals(product, name, -value, tax_ids))
        if order.shipping:
            product = self._setting_product(backend, "storefront_shipping_product_id")
            taxes = self._taxes(product, fiscal_position, order)
            for ship in order.shipping:
                price = ship.price - ship.discount
                vals = self._charge_vals(product, ship.name, price, taxes.ids)
                lines.append(dict(vals, is_delivery=True))
        lines += self._fee_vals(backend, order, fiscal_position)
        return [(0, 0, dict(vals, sequence=seq)) for seq, vals in enumerate(lines, 10)]

    def _fee_vals(self, backend, order, fiscal_position):
        """One line per fee (tip, duties...) of the fees product, with its
        taxes if the channel taxed the fee."""
        if not order.fees:
            return []
        product = self._setting_product(backend, "storefront_fee_product_id")
        vals = []
        for fee in order.fees:
            tax_ids = []
            if fee.taxable:
                tax_ids = self._taxes(product, fiscal_position, order).ids
            vals.append(self._charge_vals(product, fee.name, fee.amount, tax_ids))
        return vals

    def _charge_vals(self, product, name, price, tax_ids):
        """A discount, shipping or fee line: one of ``product`` at ``price``."""
        return {
            "product_id": product.id,
            "name": name,
            "product_uom_qty": 1.0,
            "price_unit": float(price),
            "tax_id": [(6, 0, list(tax_ids))],
        }

    def _setting_product(self, backend, field_name):
        """The backend's shipping, discount or fees product, else the module's
        own (backends created before this module was installed have none set)."""
        product = backend[field_name]
        if not product:
            default = backend.default_get([field_name]).get(field_name)
            product = self.env["product.product"].browse(default or [])
        if not product:
            raise UserError(
                _(
                    "Backend %(backend)s has no %(setting)s: set one on its "
                    "Storefront tab.",
                    backend=backend.name,
                    setting=backend._fields[field_name].string,
                )
            )
        return product

    def _pricelist(self, backend, order):
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", order.currency)], limit=1)
        )
        if not currency:
            raise UserError(
                _(
                    "Order %(order)s: unknown currency %(currency)s.",
                    order=order.name,
                    currency=order.currency,
                )
            )
        if not currency.active:
            raise UserError(
                _(
                    "Order %(order)s is in %(currency)s, which is not active: "
                    "activate it, then retry.",
                    order=order.name,
                    currency=currency.name,
                )
            )
        if backend.pricelist_id.currency_id == currency:
            return backend.pricelist_id
        pricelist = self.env["product.pricelist"].search(
            [
                ("currency_id", "=", currency.id),
                ("company_id", "in", (backend.company_id.id, False)),
            ],
            limit=1,
        )
        if not pricelist:
            raise UserError(
                _(
                    "Order %(order)s is in %(currency)s and no pricelist is: create a "
                    "pricelist in %(currency)s, then retry.",
                    order=order.name,
                    currency=currency.name,
                )
            )
        return pricelist

    # Taxes -------------------------------------------------------------------

    def _taxes(self, product, fiscal_position, order):
        company = self.env.company
        taxes = product.taxes_id.filtered(lambda t: t.company_id == company)
        taxes = fiscal_position.map_tax(taxes) if fiscal_position else taxes
        return taxes.browse([self._tax_twin(tax, order).id for tax in taxes])

    def _tax_twin(self, tax, order):
        """``tax``, or its twin that includes (or excludes) the price as the
        channel does."""
        if (
            tax.amount_type not in ("percent", "division")
            or tax.price_include == order.prices_include_tax
        ):
            return tax
        twin = self.env["account.tax"].search(
            [
                ("company_id", "=", tax.company_id.id),
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", tax.amount_type),
                ("amount", "=", tax.amount),
                ("price_include", "=", order.prices_include_tax),
            ],
            limit=1,
        )
        if not twin:
            raise UserError(
                _(
                    "Order %(order)s: the channel's prices %(how)s tax, and no sales "
                    "tax of %(amount)s %% does like %(tax)s. Create one, then retry.",
                    order=order.name,
                    how=_("include") if order.prices_include_tax else _("exclude"),
                    amount=tax.amount,
                    tax=tax.name,
                )
            )
        return twin

    # Products ----------------------------------------------------------------

    @api.model
    def _product_key(self, sku, product_ref):
        """The external id a product is mapped to: the channel's product id,
        else its SKU."""
        return product_ref or f"sku:{sku}"

    def _product(self, backend, order, line):
        refs = self.env["retail.external.ref"]
        Product = self.env["product.product"]
        product = Product
        if line.product_ref:
            product = refs._find_record(
                backend, "product.product", line.product_ref
            ).exists()
        if not product and line.sku:
            product = refs._find_record(
                backend, "product.product", f"sku:{line.sku}"
            ).exists()
        for field_name in ("default_code", "barcode"):
            if product or not line.sku:
                break
            product = Product.search(
                [
                    (field_name, "=", line.sku),
                    ("sale_ok", "=", True),
                    ("company_id", "in", (backend.company_id.id, False)),
                ],
                limit=2,
            )
            if len(product) > 1:
                raise UserError(
                    _(
                        "Several products have %(field)s %(sku)s: give each a unique "
                        "one, then retry.",
                        field=Product._fields[field_name].string,
                        sku=line.sku,
                    )
                )
        if not product:
            raise UnknownProductError(
                _(
                    "No product has the SKU %(sku)s (channel product %(ref)s, e.g. "
                    '"%(name)s"). Map the SKU to a product, then retry.',
                    sku=line.sku or "-",
                    ref=line.product_ref or "-",
                    name=line.name or line.sku,
                ),
                line.sku,
                line.product_ref,
            )
        return product

    # Customers and addresses -------------------------------------------------

    def _customer(self, backend, order):
        refs = self.env["retail.external.ref"]
        Partner = self.env["res.partner"]
        customer = order.customer
        partner = Partner
        if customer.external_id:
            refs._lock_external_id(backend, "res.partner", customer.external_id)
            partner = refs._find_record(
                backend, "res.partner", customer.external_id
            ).exists()
        email = tools.email_normalize(customer.email or order.billing.email)
        if not partner and email:
            partner = Partner.search(
                [
                    ("email_normalized", "=", email),
                    ("type", "=", "contact"),
                    ("company_id", "in", (backend.company_id.id, False)),
                ],
                order="id",
                limit=1,
            )
        if not partner:
            partner = self._create_customer(order)
        if customer.external_id and not refs._external_id(backend, partner):
            refs._bind(backend, partner, customer.external_id)
        return partner

    def _create_customer(self, order):
        Partner = self.env["res.partner"]
        customer, billing = order.customer, order.billing
        email = customer.email or billing.email
        name = (
            customer.name
            or billing.name
            or email
            or _("Guest of order %(order)s", order=order.name)
        )
        company_name = customer.company or billing.company
        parent = Partner
        if company_name:
            parent = Partner.create({"name": company_name, "is_company": True})
        vals = {
            "name": name,
            "email": email or False,
            "phone": customer.phone or billing.phone or False,
            "parent_id": parent.id or False,
            **self._address_vals(billing or order.shipping_address, order.name),
        }
        contact = Partner.create(vals)
        if parent:
            parent.write(
                self._address_vals(billing or order.shipping_address, order.name)
            )
        return contact

    def _address_vals(self, address, order_name):
        if not address:
            return {}
        vals = {
            "street": address.street or False,
            "street2": address.street2 or False,
            "city": address.city or False,
            "zip": address.zip or False,
            "country_id": False,
            "state_id": False,
        }
        if address.country_code:
            country = self.env["res.country"].search(
                [("code", "=", address.country_code.upper())], limit=1
            )
            if not country:
                raise UserError(
                    _(
                        "Order %(order)s: unknown country code %(code)s.",
                        order=order_name,
                        code=address.country_code,
                    )
                )
            vals["country_id"] = country.id
            if address.state_code:
                code = address.state_code.upper().removeprefix(f"{country.code}-")
                state = self.env["res.country.state"].search(
                    [("country_id", "=", country.id), ("code", "=", code)], limit=1
                )
                vals["state_id"] = state.id or False
        return vals

    def _address(self, partner, address, kind, order_name):
        """The partner's own address if it is the same, else a child address."""
        if not address:
            return partner
        vals = self._address_vals(address, order_name)
        candidates = partner | partner.commercial_partner_id.child_ids.filtered(
            lambda p: p.type == kind
        )
        for candidate in candidates:
            same_place = all(
                (candidate[f].id if f.endswith("_id") else candidate[f] or False)
                == vals[f]
                for f in ADDRESS_FIELDS
            )
            same_name = (
                candidate == partner
                or not address.name
                or candidate.name == address.name
            )
            if same_place and same_name:
                return candidate
        return self.env["res.partner"].create(
            {
                "type": kind,
                "parent_id": partner.commercial_partner_id.id,
                "name": address.name or False,
                "phone": address.phone or False,
                **vals,
            }
        )

    # Status ------------------------------------------------------------------

    def _apply_status(self, backend, order, sale):
        done = []
        if order.status == "cancelled":
            done.append(self._cancel(backend, sale, _("the channel cancelled it")))
            return done
        if sale.state == "cancel":
            done.append(_("%(sale)s stays cancelled", sale=sale.name))
            return done
        if (
            order.is_paid
            and backend.storefront_auto_confirm
            and sale.state in ("draft", "sent")
        ):
            sale.action_confirm()
            done.append(_("confirmed (paid)"))
        if order.financial_status in ("refunded", "partially_refunded"):
            self._report_refund(backend, sale)
        return done

    def _is_fulfilled(self, sale):
        return any(sale.order_line.mapped("qty_delivered")) or bool(
            sale.invoice_ids.filtered(lambda i: i.state == "posted")
        )

    def _cancel(self, backend, sale, reason):
        if sale.state == "cancel":
            return _("%(sale)s was already cancelled", sale=sale.name)
        if self._is_fulfilled(sale):
            self.env["retail.sync.exception"].sudo()._report(
                _(
                    "%(sale)s was cancelled on the channel (%(reason)s), but Odoo has "
                    "already delivered or invoiced it. Return the goods or credit the "
                    "invoice as needed, then resolve this.",
                    sale=sale.name,
                    reason=reason,
                ),
                name=_(
                    "Delivered order %(order)s cancelled on the channel",
                    order=sale.retail_order_name,
                ),
                backend=backend,
                kind="data",
                document=sale,
                key=f"storefront:cancelled:{sale.id}",
            )
            return _(
                "%(sale)s is delivered or invoiced: cancellation sent to the inbox",
                sale=sale.name,
            )
        sale._action_cancel()
        sale.message_post(body=_("Cancelled: %(reason)s.", reason=reason))
        return _("cancelled %(sale)s", sale=sale.name)

    def _report_refund(self, backend, sale):
        if not self._is_fulfilled(sale):
            return
        self.env["retail.sync.exception"].sudo()._report(
            _(
                "The channel refunded %(sale)s after it was delivered or invoiced. "
                "Create the return or the credit note, then resolve this.",
                sale=sale.name,
            ),
            name=_("Refund on delivered order %(order)s", order=sale.retail_order_name),
            backend=backend,
            kind="data",
            document=sale,
            key=f"storefront:refund:{sale.id}",
        )

    def _report_edited(self, backend, order, sale):
        self.env["retail.sync.exception"].sudo()._report(
            _(
                "Order %(order)s changed on the channel after %(sale)s was confirmed: "
                "its lines, prices or shipping differ. Update %(sale)s by hand, then "
                "resolve this.",
                order=order.name,
                sale=sale.name,
            ),
            name=_("Confirmed order %(order)s edited on the channel", order=order.name),
            backend=backend,
            kind="data",
            document=sale,
            key=f"storefront:edited:{sale.id}:{order.lines_fingerprint()}",
        )
