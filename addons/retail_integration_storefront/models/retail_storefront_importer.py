from collections import defaultdict
from decimal import Decimal

from odoo import _, api, models, tools
from odoo.exceptions import UserError

from odoo.addons.retail_integration.lib.canonical import Line


class RetailStorefrontImporter(models.AbstractModel):
    """Turns a canonical storefront order into a sale order, idempotently.

    One importer for every provider: the provider's adapter makes the
    canonical order, this applies it with the core's ``retail.importer``
    (lock and out-of-order guard, customer and product matching, pricelist,
    total check). Work on one channel order is serialised by the external
    reference lock, so that its create, paid and cancel messages, in any
    order or at the same time, end in one right sale order.
    """

    _name = "retail.storefront.importer"
    _inherit = "retail.importer"
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
        sale = self._lock_record(backend, "sale.order", order.external_id)
        if not sale and self._deleted_before_import(
            backend, "sale.order", order.external_id, restore
        ):
            return sale, _(
                "Order %(order)s was deleted on the channel before it was "
                "imported: not imported unless the channel restores it.",
                order=order.name,
            )
        if self._is_outdated(sale, order.updated_at, "retail_updated_at"):
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
                done.append(self._edit_confirmed(backend, order, sale))
        else:
            done.append(_("%(sale)s unchanged", sale=sale.name))
        payment_state = order.financial_status
        if sale.retail_refunds and payment_state == "paid":
            # the channel's order status does not say what its refunds did
            payment_state = self._refunded_state(sale)
        sale.write(
            {
                "retail_payment_gateway": order.gateway or sale.retail_payment_gateway,
                "retail_payment_state": payment_state,
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
        sale = self._lock_record(backend, "sale.order", external_id)
        if not sale:
            self.env["retail.external.ref"]._bind_deleted(
                backend, "sale.order", external_id
            )
            return sale, _(
                "Channel order %(id)s was never imported: nothing to cancel. Its "
                "versions arriving later are ignored unless the channel restores it.",
                id=external_id,
            )
        sale.retail_channel_state = "cancelled"
        return sale, self._cancel(backend, sale, _("the channel deleted it"))

    @api.model
    def _record_refund(self, backend, refund):
        """A canonical ``Refund`` made on the channel (Shopify ``refunds/create``,
        WooCommerce order refunds); once per refund id, whatever the retries."""
        self = self.with_company(backend.company_id)
        refund_id, refunded = refund.external_id, refund.amount
        sale = self._lock_record(backend, "sale.order", refund.order_external_id)
        if not sale:
            return sale, None
        refunds = dict(sale.retail_refunds or {})
        if refund_id in refunds:
            return sale, _("Refund %(id)s was already recorded.", id=refund_id)
        refunds[refund_id] = str(refunded)
        sale.retail_refunds = refunds
        sale.retail_payment_state = self._refunded_state(sale)
        done = [
            _(
                "The channel refunded %(amount)s %(currency)s (refund %(id)s).",
                amount=refunded,
                currency=sale.currency_id.name,
                id=refund_id,
            )
        ]
        pairs = self._refund_lines(backend, sale, refund)
        done += self._refund_goods(sale, pairs)
        credited = self._refund_credit_note(backend, sale, refund, pairs)
        done += credited
        if not refund.lines and not refund.shipping and not credited:
            self._report_refund(backend, sale)
        sale.message_post(body=" ".join(done))
        return sale, _(
            "Refund %(id)s of %(amount)s recorded on %(sale)s: %(done)s",
            id=refund_id,
            amount=refunded,
            sale=sale.name,
            done=" ".join(done[1:]) or _("money only."),
        )

    @api.model
    def _record_listed_refunds(self, backend, sale, order_external_id, refund_ids):
        """The refunds an order lists (WooCommerce) that ``sale`` has not
        recorded yet: read from the channel's API, each recorded once by its
        id (``_record_refund``). What was done."""
        new = [rid for rid in refund_ids if rid not in (sale.retail_refunds or {})]
        if not new:
            return []
        refunds = {
            refund.external_id: refund
            for refund in backend._storefront_connect().refunds(order_external_id)
        }
        missing = [rid for rid in new if rid not in refunds]
        if missing:
            raise UserError(
                _(
                    "Order %(order)s lists refund(s) %(ids)s, which the channel does "
                    "not return.",
                    order=sale.retail_order_name,
                    ids=", ".join(missing),
                )
            )
        return [self._record_refund(backend, refunds[rid])[1] for rid in new]

    def _refunded_state(self, sale):
        """Partially refunded, or refunded once the refunds reach the total."""
        total = sum(float(value) for value in (sale.retail_refunds or {}).values())
        full = tools.float_compare(
            total, sale.amount_total, precision_rounding=sale.currency_id.rounding
        )
        return "refunded" if full >= 0 else "partially_refunded"

    def _refund_lines(self, backend, sale, refund):
        """[(sale order line, refund line)] of the goods ``refund`` covers."""
        pairs = []
        for item in refund.lines:
            product = self._match_product(
                backend,
                Line(item.sku, item.quantity, Decimal(0), product_ref=item.product_ref),
            )
            lines = sale.order_line.filtered(lambda sol, p=product: sol.product_id == p)
            if not lines:
                raise UserError(
                    _(
                        "Refund %(id)s returns %(product)s, which %(sale)s does not "
                        "sell.",
                        id=refund.external_id,
                        product=product.display_name,
                        sale=sale.name,
                    )
                )
            pairs.append((lines[0], item))
        return pairs

    def _refund_goods(self, sale, pairs):
        """Goods refunded before shipping are no longer to be shipped (their
        quantities drop, Odoo adjusts the delivery); goods the customer
        returns come back through a return of the delivery, left ready for
        the warehouse to receive."""
        done, returns = [], defaultdict(float)
        for line, item in pairs:
            quantity = float(item.quantity)
            restock = item.restock
            if restock == "return" and not line.qty_delivered:
                restock = "cancel"  # restocked before it left: no longer to ship
            if restock == "cancel":
                left = max(line.product_uom_qty - quantity, line.qty_delivered)
                # the channel's price is written with the quantity (see
                # _line_changes)
                line.write({"product_uom_qty": left, "price_unit": line.price_unit})
                done.append(
                    _(
                        "%(product)s: %(qty)s no longer to ship.",
                        product=line.product_id.display_name,
                        qty=quantity,
                    )
                )
            elif restock == "return":
                returns[line.product_id] += quantity
        if returns:
            picking = self._return_delivery(sale, returns)
            done.append(
                _(
                    "Return %(picking)s created for the goods sent back.",
                    picking=picking.name,
                )
            )
        return done

    def _return_delivery(self, sale, quantities):
        """A return of ``sale``'s done deliveries for ``quantities``
        ({product: quantity}), as Odoo's *Return* button makes it."""
        outgoing = sale.picking_ids.filtered(
            lambda p: p.state == "done" and p.picking_type_code == "outgoing"
        )
        if not outgoing:
            raise UserError(
                _(
                    "The channel says goods of %(sale)s came back, but nothing of it "
                    "was delivered from Odoo.",
                    sale=sale.name,
                )
            )
        wizard = self.env["stock.return.picking"].create(
            {"picking_id": outgoing[-1].id}
        )
        left = dict(quantities)
        for line in wizard.product_return_moves:
            take = min(left.get(line.product_id, 0.0), line.move_id.quantity)
            line.quantity = take
            if line.product_id in left:
                left[line.product_id] -= take
        return wizard._create_return()

    def _refund_credit_note(self, backend, sale, refund, pairs):
        """A posted credit note for the refunded goods and shipping, when
        ``sale`` was invoiced (before that, there is nothing to credit)."""
        invoices = sale.invoice_ids.filtered(
            lambda m: m.state == "posted" and m.move_type == "out_invoice"
        )
        if not invoices:
            return []
        vals = []
        if not refund.lines and not refund.shipping and refund.amount:
            # goodwill: money without goods, as it was given back (tax included)
            product = self._setting_product(backend, "storefront_goodwill_product_id")
            vals.append(
                {
                    "product_id": product.id,
                    "name": refund.note or _("Goodwill refund"),
                    "quantity": 1.0,
                    "price_unit": float(refund.amount),
                    "tax_ids": [(6, 0, [])],
                }
            )
        for line, item in pairs:
            if not item.amount:
                continue
            vals.append(
                {
                    "product_id": line.product_id.id,
                    "quantity": float(item.quantity) or 1.0,
                    "price_unit": float(item.amount / (item.quantity or 1)),
                    "tax_ids": [(6, 0, line.tax_id.ids)],
                    "sale_line_ids": [(6, 0, line.ids)],
                }
            )
        if refund.shipping:
            ship = sale.order_line.filtered("is_delivery")[:1]
            product = ship.product_id or self._setting_product(
                backend, "storefront_shipping_product_id"
            )
            vals.append(
                {
                    "product_id": product.id,
                    "name": _("Shipping refunded"),
                    "quantity": 1.0,
                    "price_unit": float(refund.shipping),
                    "tax_ids": [(6, 0, ship.tax_id.ids)],
                }
            )
        if not vals:
            return []
        invoice = invoices[0]
        credit = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": invoice.partner_id.id,
                "currency_id": invoice.currency_id.id,
                "company_id": invoice.company_id.id,
                "fiscal_position_id": invoice.fiscal_position_id.id,
                "reversed_entry_id": invoice.id,
                "invoice_origin": sale.name,
                "ref": _(
                    "Refund %(id)s of %(order)s",
                    id=refund.external_id,
                    order=sale.retail_order_name,
                ),
                "invoice_line_ids": [(0, 0, v) for v in vals],
            }
        )
        credit.action_post()
        done = [_("Credit note %(name)s posted.", name=credit.name)]
        if backend.storefront_invoice_paid and invoice.payment_state in (
            "paid",
            "in_payment",
        ):
            journal = self._payment_journal(backend, sale.retail_payment_gateway)
            self._register_payment(credit, journal, refund.external_id)
            done.append(_("Paid back from %(journal)s.", journal=journal.name))
        return done

    # Sale order --------------------------------------------------------------

    def _create_sale_order(self, backend, order):
        partner = self._match_customer(backend, order)
        invoice = self._match_address(partner, order.billing, "invoice", order.name)
        delivery = self._match_address(
            partner, order.shipping_address, "delivery", order.name
        )
        vals = {
            "partner_id": partner.id,
            "partner_invoice_id": invoice.id,
            "partner_shipping_id": delivery.id,
            "company_id": backend.company_id.id,
            "pricelist_id": self._currency_pricelist(backend, order).id,
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
        self._check_total(order, sale.amount_total, sale.currency_id)

    def _edit_confirmed(self, backend, order, sale):
        """The channel edited a confirmed order: its lines follow while nothing
        is delivered or invoiced (Odoo adjusts the picking); afterwards the
        differences go to the inbox. Returns what was done."""
        changes = self._line_changes(backend, order, sale)
        if sale.state == "cancel" or self._is_fulfilled(sale):
            if changes:
                self._report_edited(backend, order, sale, changes)
            return _("reported a change of the confirmed %(sale)s", sale=sale.name)
        for line, vals in changes["changed"]:
            line.write(vals)
        for line in changes["removed"]:
            line.product_uom_qty = 0  # a confirmed line is kept, at zero
        if changes["added"]:
            sale.write({"order_line": [(0, 0, vals) for vals in changes["added"]]})
        sale.retail_lines_hash = order.lines_fingerprint()
        self._check_total(order, sale.amount_total, sale.currency_id)
        summary = self._changes_text(changes)
        sale.message_post(
            body=_("Edited on the channel: %(changes)s.", changes=summary)
        )
        return _(
            "applied the channel's edit to %(sale)s (%(changes)s)",
            sale=sale.name,
            changes=summary,
        )

    def _line_changes(self, backend, order, sale):
        """What differs between ``sale``'s lines and ``order``'s:
        {"changed": [(line, vals)], "added": [vals], "removed": [line]}. A
        product line is known by its product, a charge (shipping, discount,
        fee) by its product and label."""
        charges = self.env["product.product"]
        for field_name in (
            "storefront_shipping_product_id",
            "storefront_discount_product_id",
            "storefront_fee_product_id",
        ):
            try:
                charges |= self._setting_product(backend, field_name)
            except UserError:
                continue

        def key(product_id, name):
            return (product_id, name if product_id in charges.ids else None)

        current = defaultdict(list)
        for line in sale.order_line.filtered(lambda sol: not sol.display_type):
            if line.product_uom_qty or line.product_id.id in charges.ids:
                current[key(line.product_id.id, line.name)].append(line)
        changes = {"changed": [], "added": [], "removed": []}
        for _c, _i, vals in self._line_commands(backend, order, sale):
            lines = current.get(key(vals["product_id"], vals.get("name")))
            if not lines:
                changes["added"].append(vals)
                continue
            line = lines.pop(0)
            update = {
                name: vals[name]
                for name in ("product_uom_qty", "price_unit")
                if tools.float_compare(line[name], vals[name], precision_digits=6)
            }
            if set(line.tax_id.ids) != set(vals["tax_id"][0][2]):
                update["tax_id"] = vals["tax_id"]
            if update:
                # Odoo prices a line again when its quantity changes: the
                # channel's price is written with it
                update.setdefault("price_unit", vals["price_unit"])
                changes["changed"].append((line, update))
        changes["removed"] = [line for lines in current.values() for line in lines]
        return changes

    def _changes_text(self, changes):
        parts = [
            _(
                "%(product)s %(before)s → %(after)s",
                product=line.name.split("\n")[0],
                before=line.product_uom_qty,
                after=vals.get("product_uom_qty", line.product_uom_qty),
            )
            if "product_uom_qty" in vals
            else _(
                "%(product)s at %(price)s",
                product=line.name.split("\n")[0],
                price=vals.get("price_unit", line.price_unit),
            )
            for line, vals in changes["changed"]
        ]
        products = self.env["product.product"]
        parts += [
            _(
                "%(product)s added (%(qty)s)",
                product=vals.get("name")
                or products.browse(vals["product_id"]).display_name,
                qty=vals["product_uom_qty"],
            )
            for vals in changes["added"]
        ]
        parts += [
            _("%(product)s removed", product=line.name.split("\n")[0])
            for line in changes["removed"]
        ]
        return "; ".join(parts) or _("no line changed")

    def _line_commands(self, backend, order, sale):
        fiscal_position = sale.fiscal_position_id
        lines, discounts = [], defaultdict(float)
        for line in order.lines:
            product = self._match_product(backend, line)
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

    @api.model
    def _unknown_product_vals(self, sku, product_ref):
        """What the inbox item's *Map Product* reads."""
        return {"storefront_sku": sku, "storefront_product_ref": product_ref}

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
        if order.is_paid and backend.storefront_invoice_paid and sale.state == "sale":
            done.extend(self._invoice_and_pay(backend, sale))
        refunded = order.financial_status in ("refunded", "partially_refunded")
        if refunded and not backend._storefront_adapter().reads_refunds:
            self._report_refund(backend, sale)
        return done

    # Payments ----------------------------------------------------------------

    @api.model
    def _record_payment(self, backend, payment):
        """A gateway captured ``payment`` (a ``lib.stripe.Payment``) for a
        channel order: the order is paid through that gateway, confirmed if
        the backend confirms paid orders, and invoiced and paid with *Invoice
        Paid Orders*; (sale order, summary). Again: nothing more."""
        self = self.with_company(backend.company_id)
        sale = self._lock_record(backend, "sale.order", payment.order_external_id)
        if not sale:
            return sale, None
        if payment.currency != sale.currency_id.name:
            raise UserError(
                _(
                    "Payment %(id)s is in %(currency)s, %(sale)s in %(sale_currency)s.",
                    id=payment.external_id,
                    currency=payment.currency,
                    sale=sale.name,
                    sale_currency=sale.currency_id.name,
                )
            )
        done = []
        if sale.retail_payment_state not in ("paid", "partially_refunded", "refunded"):
            sale.write(
                {
                    "retail_payment_state": "paid",
                    "retail_payment_gateway": payment.gateway,
                }
            )
            done.append(_("paid through %(gateway)s", gateway=payment.gateway))
            sale.message_post(
                body=_(
                    "Payment %(id)s of %(amount)s %(currency)s captured by "
                    "%(gateway)s.",
                    id=payment.external_id,
                    amount=payment.amount,
                    currency=payment.currency,
                    gateway=payment.gateway,
                )
            )
        if backend.storefront_auto_confirm and sale.state in ("draft", "sent"):
            sale.action_confirm()
            done.append(_("confirmed"))
        if backend.storefront_invoice_paid and sale.state == "sale":
            done.extend(self._invoice_and_pay(backend, sale))
        return sale, _(
            "Payment %(id)s of %(sale)s: %(done)s.",
            id=payment.external_id,
            sale=sale.name,
            done=", ".join(done) or _("already recorded"),
        )

    def _invoice_and_pay(self, backend, sale):
        """A paid channel order's invoice, posted, with the channel's payment
        registered in its gateway's journal; once, whatever the retries."""
        invoices = sale.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice" and m.state != "cancel"
        )
        done = []
        if not invoices:
            if not any(sale.order_line.mapped("qty_to_invoice")):
                return [_("nothing to invoice yet (invoiced on delivery)")]
            invoices = sale._create_invoices()
            done.append(
                _("invoiced (%(names)s)", names=", ".join(invoices.mapped("name")))
            )
        invoices.filtered(lambda m: m.state == "draft").action_post()
        unpaid = invoices.filtered(
            lambda m: m.state == "posted" and m.payment_state in ("not_paid", "partial")
        )
        if unpaid:
            journal = self._payment_journal(backend, sale.retail_payment_gateway)
            self._register_payment(unpaid, journal, sale.retail_order_name)
            done.append(_("payment registered in %(journal)s", journal=journal.name))
        return done

    def _payment_journal(self, backend, gateway):
        key = (gateway or "").strip().lower()
        journal = (
            backend.storefront_gateway_ids.filtered(
                lambda g: g.gateway == key
            ).journal_id[:1]
            or backend.storefront_payment_journal_id
        )
        if not journal:
            raise UserError(
                _(
                    "No journal for the payments of gateway %(gateway)s on "
                    "%(backend)s: set a Payment Journal or map the gateway on its "
                    "Storefront tab, then retry.",
                    gateway=gateway or "-",
                    backend=backend.name,
                )
            )
        return journal

    def _register_payment(self, moves, journal, memo):
        """Pay ``moves`` (invoices or credit notes) in full in ``journal``:
        Odoo's *Register Payment*, which reconciles them."""
        return (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create({"journal_id": journal.id, "communication": memo or moves[0].name})
            ._create_payments()
        )

    def _is_fulfilled(self, sale):
        return any(sale.order_line.mapped("qty_delivered")) or bool(
            sale.invoice_ids.filtered(lambda i: i.state == "posted")
        )

    def _cancel(self, backend, sale, reason):
        if sale.state == "cancel":
            return _("%(sale)s was already cancelled", sale=sale.name)
        if self._is_fulfilled(sale):
            self._report_sale(
                backend,
                sale,
                _(
                    "%(sale)s was cancelled on the channel (%(reason)s), but Odoo has "
                    "already delivered or invoiced it. Return the goods or credit the "
                    "invoice as needed, then resolve this.",
                    sale=sale.name,
                    reason=reason,
                ),
                _(
                    "Delivered order %(order)s cancelled on the channel",
                    order=sale.retail_order_name,
                ),
                f"storefront:cancelled:{sale.id}",
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
        self._report_sale(
            backend,
            sale,
            _(
                "The channel refunded %(sale)s after it was delivered or invoiced. "
                "Create the return or the credit note, then resolve this.",
                sale=sale.name,
            ),
            _("Refund on delivered order %(order)s", order=sale.retail_order_name),
            f"storefront:refund:{sale.id}",
        )

    def _report_edited(self, backend, order, sale, changes):
        self._report_sale(
            backend,
            sale,
            _(
                "Order %(order)s changed on the channel after %(sale)s was delivered "
                "or invoiced: %(changes)s. Update %(sale)s, its delivery or its "
                "invoice by hand, then resolve this.",
                order=order.name,
                sale=sale.name,
                changes=self._changes_text(changes),
            ),
            _("Confirmed order %(order)s edited on the channel", order=order.name),
            f"storefront:edited:{sale.id}:{order.lines_fingerprint()}",
        )

    def _report_sale(self, backend, sale, cause, name, key):
        """Inbox item about ``sale`` that a person must act on."""
        # sudo: inbox items are filed on the backend's behalf
        self.env["retail.sync.exception"].sudo()._report(
            cause, name=name, backend=backend, kind="data", document=sale, key=key
        )
