from odoo import _, api, models
from odoo.exceptions import UserError

from odoo.addons.retail_integration.lib.parsing import MappingError
from odoo.addons.retail_integration_storefront.lib.generic.mapper import generic_order
from odoo.addons.retail_integration_storefront.lib.listing import (
    format_price,
    published_quantity,
)

from ..lib import routes
from ..lib.problems import Problem


def _money(amount, currency):
    return format_price(amount, currency.decimal_places)


class RetailApiService(models.AbstractModel):
    """What each route does, run as the client's technical user in its
    company: ``handler(client, params, query, body) -> (status, body)``.
    ``client`` is read with sudo (its configuration), the work is done with
    ``self`` (the technical user's rights)."""

    _name = "retail.api.service"
    _description = "Retail API Resources"

    def _products(self, skus):
        """({sku: product} of the known ones, [unknown skus]) in the client's
        company (or shared)."""
        products = self.env["product.product"].search_fetch(
            [("default_code", "in", skus)], ["default_code"]
        )
        by_sku = {}
        for product in products:
            by_sku.setdefault(product.default_code, product)
        return by_sku, [sku for sku in dict.fromkeys(skus) if sku not in by_sku]

    # Stock and prices ----------------------------------------------------------

    @api.model
    def stock(self, client, params, query, body):
        config = client._config()
        if query.warehouse:
            warehouse = client._warehouse(query.warehouse)
            warehouses = ((warehouse.id, warehouse.code),)
        else:
            warehouses = config.warehouses
        products, levels = self.env["retail.api.reservation"]._levels(
            self.env["res.company"].browse(config.company_id),
            self.env["stock.warehouse"].browse(w for w, _code in warehouses),
            query.skus,
            alone=True,
        )
        items = [
            {
                "sku": sku,
                "warehouse": code,
                "on_hand": on_hand,
                "reserved": held,
                "available": published_quantity(
                    on_hand - taken - held, config.safety_buffer
                ),
            }
            for warehouse_id, code in warehouses
            for sku, product_id in products.items()
            for on_hand, taken, held in [levels[warehouse_id, product_id]]
        ]
        unknown = [sku for sku in dict.fromkeys(query.skus) if sku not in products]
        return 200, {"items": items, "unknown_skus": unknown}

    @api.model
    def prices(self, client, params, query, body):
        pricelist = client.backend_id.pricelist_id
        if not pricelist:
            raise Problem("conflict", _("The client's backend has no pricelist."))
        by_sku, unknown = self._products(query.skus)
        quantity = float(query.quantity)
        currency = pricelist.currency_id
        items = [
            {
                "sku": sku,
                "quantity": quantity,
                "unit_price": _money(
                    pricelist._get_product_price(product, quantity), currency
                ),
                "currency": currency.name,
            }
            for sku, product in by_sku.items()
        ]
        return 200, {
            "pricelist": pricelist.name,
            "items": items,
            "unknown_skus": unknown,
        }

    # Orders --------------------------------------------------------------------

    @api.model
    def submit_order(self, client, params, query, body):
        """The canonical order JSON through the storefront's own import path."""
        try:
            order = generic_order(body)
        except MappingError as err:
            raise Problem(
                "validation_error",
                str(err),
                [{"pointer": "#/", "in": "body", "detail": str(err)}],
            ) from err
        backend = client.backend_id
        try:
            sale, summary = self.env["retail.storefront.importer"]._import_order(
                backend, order
            )
        except UserError as err:
            raise Problem("validation_error", str(err)) from err
        return 201, {
            "id": order.external_id,
            "name": sale.name,
            "state": sale.state,
            "summary": summary,
        }

    def _find_order(self, client, external_id):
        sale = self.env["retail.external.ref"]._find_record(
            client.backend_id, "sale.order", external_id
        )
        if not sale:
            raise Problem("not_found", _("No order %(id)s.", id=external_id))
        return sale

    def _order_out(self, external_id, sale):
        currency = sale.currency_id
        return {
            "id": external_id,
            "name": sale.name,
            "state": sale.state,
            "channel_state": sale.retail_channel_state or None,
            "payment_state": sale.retail_payment_state or None,
            "amount_total": _money(sale.amount_total, currency),
            "currency": currency.name,
            "pickings": [
                {
                    "name": picking.name,
                    "state": picking.state,
                    "warehouse": picking.picking_type_id.warehouse_id.code or None,
                    "tracking_ref": picking.carrier_tracking_ref or None,
                    "carrier": picking.carrier_id.name or None,
                }
                for picking in sale.picking_ids
            ],
            "invoices": [
                {
                    "name": move.name,
                    "move_type": move.move_type,
                    "state": move.state,
                    "payment_state": move.payment_state,
                    "amount_total": _money(move.amount_total, move.currency_id),
                    "amount_residual": _money(move.amount_residual, move.currency_id),
                }
                for move in sale.invoice_ids
            ],
            "updated_at": sale.write_date.isoformat() + "Z",
        }

    @api.model
    def order_status(self, client, params, query, body):
        external_id = params["order_id"]
        return 200, self._order_out(external_id, self._find_order(client, external_id))

    @api.model
    def list_orders(self, client, params, query, body):
        after = routes.decode_cursor(query.cursor)
        domain = [
            ("backend_id", "=", client.backend_id.id),
            ("res_model", "=", "sale.order"),
        ]
        if after:
            domain.append(("id", "<", after))
        # sudo: external references are the integration's bookkeeping; the
        # orders themselves are read with the client's rights
        refs = (
            self.env["retail.external.ref"]
            .sudo()
            .search(domain, order="id desc", limit=query.limit + 1)
        )
        page = refs[: query.limit]
        orders = self.env["sale.order"].browse(page.mapped("res_id")).exists()
        by_id = {order.id: order for order in orders}
        items = [
            self._order_out(ref.external_id, by_id[ref.res_id])
            for ref in page
            if ref.res_id in by_id
        ]
        more = len(refs) > query.limit
        return 200, {
            "items": items,
            "next_cursor": routes.encode_cursor(page[-1].id) if more else None,
        }

    # Reservations --------------------------------------------------------------

    def _reservation_out(self, reservation):
        return {
            "id": reservation.id,
            "reference": reservation.reference or None,
            "state": reservation.state,
            "warehouse": reservation.warehouse_id.code,
            "expires_at": reservation.expires_at.isoformat() + "Z",
            "lines": [
                {"sku": line.product_id.default_code, "quantity": line.quantity}
                for line in reservation.line_ids
            ],
            "order": reservation.sale_order_id.name or None,
            "release_reason": reservation.release_reason or None,
        }

    def _reservation(self, client, reservation_id, lock=False):
        rid = routes.record_id(reservation_id)
        reservation = self.env["retail.api.reservation"].search(
            [("id", "=", rid), ("client_id", "=", client.id)]
        )
        if not reservation:
            raise Problem("not_found", _("No reservation %(id)s.", id=reservation_id))
        if lock:
            self.env.cr.execute(
                "SELECT id FROM retail_api_reservation WHERE id = %s FOR NO KEY UPDATE",
                (reservation.id,),
            )
        return reservation

    def _customer(self, client, customer):
        """The contact of ``customer``'s e-mail in the client's company, else
        a new one."""
        partner = self.env["retail.importer"]._contact_by_email(
            customer.email, client.company_id
        )
        return partner or self.env["res.partner"].create(
            {"name": customer.name, "email": customer.email, "phone": customer.phone}
        )

    @api.model
    def reserve(self, client, params, query, body):
        warehouse = client._warehouse(body.warehouse)
        by_sku, unknown = self._products([line.sku for line in body.lines])
        if unknown:
            raise Problem(
                "not_found",
                _("Unknown SKUs: %(skus)s", skus=", ".join(unknown)),
                [
                    {"pointer": "#/lines", "in": "body", "detail": sku}
                    for sku in unknown
                ],
            )
        quantities = {}
        for line in body.lines:
            product = by_sku[line.sku]
            quantities[product] = quantities.get(product, 0.0) + float(line.quantity)
        reservation, short = self.env["retail.api.reservation"]._reserve(
            client,
            warehouse,
            self._customer(client, body.customer),
            quantities,
            body.expires_in_minutes,
            body.reference,
        )
        if short:
            raise Problem(
                "insufficient_stock",
                _("Not enough free stock at %(wh)s.", wh=warehouse.code),
                [
                    {
                        "pointer": "#/lines",
                        "in": "body",
                        "detail": f"{product.default_code}: {available} available",
                    }
                    for product, available in short.items()
                ],
            )
        return 201, self._reservation_out(reservation)

    @api.model
    def reservation_status(self, client, params, query, body):
        return 200, self._reservation_out(
            self._reservation(client, params["reservation_id"])
        )

    @api.model
    def confirm_reservation(self, client, params, query, body):
        reservation = self._reservation(client, params["reservation_id"], lock=True)
        if reservation.state != "active":
            raise Problem(
                "conflict",
                _("The reservation is %(state)s.", state=reservation.state),
            )
        try:
            reservation._confirm()
        except UserError as err:  # expired, not yet marked so by the cron
            raise Problem("conflict", str(err)) from err
        return 200, self._reservation_out(reservation)

    @api.model
    def release_reservation(self, client, params, query, body):
        reservation = self._reservation(client, params["reservation_id"], lock=True)
        if reservation.state != "active":
            raise Problem(
                "conflict",
                _("The reservation is %(state)s.", state=reservation.state),
            )
        reservation._release(_("Released by the client."))
        return 200, self._reservation_out(reservation)

    # Returns -------------------------------------------------------------------

    def _return_out(self, ret):
        return {
            "id": ret.id,
            "order_id": ret.order_external_id,
            "state": ret.state,
            "reason": ret.reason,
            "lines": [
                {
                    "sku": line.product_id.default_code,
                    "quantity": line.quantity,
                    "received": line.received,
                }
                for line in ret.line_ids
            ],
            "picking": ret.picking_id.name or None,
            "refund": ret.refund_id.name or None,
        }

    @api.model
    def open_return(self, client, params, query, body):
        sale = self._find_order(client, body.order_id)
        returned = self.env["retail.api.return.line"].search(
            [
                ("return_id.sale_order_id", "=", sale.id),
                ("return_id.state", "!=", "cancelled"),
            ]
        )
        quantities, errors = {}, []
        for index, item in enumerate(body.lines):
            lines = sale.order_line.filtered(
                lambda sol, sku=item.sku: sol.product_id.default_code == sku
            )
            if not lines:
                errors.append(
                    {
                        "pointer": f"#/lines/{index}/sku",
                        "in": "body",
                        "detail": _("not on the order"),
                    }
                )
                continue
            line = lines[0]
            already = sum(
                returned.filtered(lambda r, sol=line: r.sale_line_id == sol).mapped(
                    "quantity"
                )
            )
            qty = float(item.quantity)
            if qty + already + quantities.get(line, 0.0) > line.qty_delivered:
                errors.append(
                    {
                        "pointer": f"#/lines/{index}/quantity",
                        "in": "body",
                        "detail": _(
                            "more than delivered and not yet returned (%(left)s)",
                            left=line.qty_delivered - already,
                        ),
                    }
                )
                continue
            quantities[line] = quantities.get(line, 0.0) + qty
        if errors:
            raise Problem(
                "validation_error", _("The return does not fit the order."), errors
            )
        try:
            ret = self.env["retail.api.return"]._open(
                client, sale, body.order_id, quantities, body.reason, body.note
            )
        except UserError as err:
            raise Problem("conflict", str(err)) from err
        return 201, self._return_out(ret)

    @api.model
    def return_status(self, client, params, query, body):
        rid = routes.record_id(params["return_id"])
        ret = self.env["retail.api.return"].search(
            [("id", "=", rid), ("client_id", "=", client.id)]
        )
        if not ret:
            raise Problem("not_found", _("No return %(id)s.", id=params["return_id"]))
        return 200, self._return_out(ret)
