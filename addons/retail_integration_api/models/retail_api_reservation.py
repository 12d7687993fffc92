from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.retail_integration_outbox.lib import payloads
from odoo.addons.retail_integration_storefront.lib.listing import published_quantity
from odoo.addons.retail_integration_webhook.lib import autocommit

# What _levels reads: sums per (warehouse, product), each table read once.
LEVELS_SQL = """
    WITH p AS (
        SELECT DISTINCT ON (pp.default_code) pp.id, pp.default_code
          FROM unnest(%(skus)s::varchar[]) AS sku (code)
          JOIN product_product pp ON pp.default_code = sku.code
          JOIN product_template pt ON pt.id = pp.product_tmpl_id
         WHERE pp.active
           AND (pt.company_id IS NULL OR pt.company_id = %(company)s)
         ORDER BY pp.default_code, pp.id
    ), w AS (
        SELECT wh.id, l.parent_path
          FROM stock_warehouse wh
          JOIN stock_location l ON l.id = wh.view_location_id
         WHERE wh.id = ANY(%(warehouses)s)
    ), q AS (
        SELECT w.id AS warehouse_id, sq.product_id,
               SUM(sq.quantity) AS quantity, SUM(sq.reserved_quantity) AS taken
          FROM w
          JOIN stock_location sl ON sl.parent_path LIKE w.parent_path || '%%'
          JOIN stock_quant sq ON sq.location_id = sl.id
         WHERE sq.product_id IN (SELECT id FROM p) AND sq.company_id = %(company)s
         GROUP BY w.id, sq.product_id
    ), r AS (
        SELECT rl.warehouse_id, rl.product_id, SUM(rl.quantity) AS held
          FROM retail_api_reservation_line rl
          JOIN retail_api_reservation res ON res.id = rl.reservation_id
         WHERE rl.state = 'active' AND rl.warehouse_id = ANY(%(warehouses)s)
           AND rl.product_id IN (SELECT id FROM p)
           -- past its expiry, a reservation holds nothing (the cron that
           -- marks it expired may not have run yet)
           AND res.expires_at > statement_timestamp() AT TIME ZONE 'UTC'
         GROUP BY rl.warehouse_id, rl.product_id
    )
    SELECT p.default_code, p.id, w.id, COALESCE(q.quantity, 0)::float8,
           COALESCE(q.taken, 0)::float8, COALESCE(r.held, 0)::float8
      FROM p CROSS JOIN w
      LEFT JOIN q ON q.warehouse_id = w.id AND q.product_id = p.id
      LEFT JOIN r ON r.warehouse_id = w.id AND r.product_id = p.id
    """


class RetailApiReservation(models.Model):
    """Stock held at a store for a customer until it is collected
    (click-and-collect): confirmed into a sale order and its picking at that
    store, released, or expired."""

    _name = "retail.api.reservation"
    _description = "Click-and-Collect Reservation"
    _inherit = ["mail.thread", "retail.correlated.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name")
    reference = fields.Char(readonly=True, help="The caller's own reference.")
    client_id = fields.Many2one(
        "retail.api.client", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse", required=True, readonly=True, check_company=True
    )
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    state = fields.Selection(
        [
            ("active", "Active"),
            ("confirmed", "Confirmed"),
            ("released", "Released"),
            ("expired", "Expired"),
        ],
        required=True,
        default="active",
        readonly=True,
        tracking=True,
        index=True,
    )
    expires_at = fields.Datetime(required=True, readonly=True, index=True)
    line_ids = fields.One2many("retail.api.reservation.line", "reservation_id")
    sale_order_id = fields.Many2one("sale.order", readonly=True, check_company=True)
    release_reason = fields.Char(readonly=True)

    def _compute_name(self):
        for reservation in self:
            reservation.name = reservation.reference or _(
                "Reservation %(id)s", id=reservation.id
            )

    # Stock ---------------------------------------------------------------------

    @api.model
    def _levels(self, company, warehouses, skus, alone=False):
        """({sku: product id}, {(warehouse id, product id): (on hand, taken by
        pickings, held by active reservations)}) of ``skus`` in ``company``.

        One query for the hot path of the stock route: the quants are summed
        as ``free_qty`` sums them (under the warehouse's view location), the
        reservations beside them. Plain SQL, so the rights are checked here
        and the company is part of the query. ``alone`` (a read with nothing
        of its own to see: the stock route), it runs prepared on the worker's
        own connection, in a snapshot of its own: planning it costs about as
        much as running it, and Odoo's pooled connections keep no prepared
        statement."""
        self.env["product.product"].check_access("read")
        self.env["stock.quant"].check_access("read")
        params = {
            "skus": list(skus),
            "company": company.id,
            "warehouses": warehouses.ids,
        }
        if alone and autocommit.serves(self.env):
            rows = autocommit.execute(
                self.env.cr.dbname, LEVELS_SQL, params, prepared="retail_api_levels"
            )
        else:
            self.env["retail.api.reservation.line"].flush_model(
                ["state", "warehouse_id", "product_id", "quantity"]
            )
            self.flush_model(["expires_at"])
            self.env.cr.execute(LEVELS_SQL, params)
            rows = self.env.cr.fetchall()
        products, levels = {}, {}
        for sku, product_id, warehouse_id, on_hand, taken, held in rows:
            products[sku] = product_id
            levels[warehouse_id, product_id] = (on_hand, taken, held)
        return products, levels

    @api.model
    def _available(self, backend, warehouse, products):
        """{product id: (on hand, reserved, available)} at ``warehouse``: the
        free quantity (on hand less what pickings reserved) less the active
        reservations, published as the storefront publishes it (less the
        backend's safety buffer)."""
        _ids, levels = self._levels(
            warehouse.company_id, warehouse, products.mapped("default_code")
        )
        result = {}
        for product in products:
            on_hand, taken, held = levels.get((warehouse.id, product.id), (0, 0, 0))
            result[product.id] = (
                on_hand,
                held,
                published_quantity(
                    on_hand - taken - held, backend.storefront_safety_buffer
                ),
            )
        return result

    @api.model
    def _lock_stock(self, warehouse, products):
        """Serialise reservations of the same products at the same store: the
        second of two concurrent ones waits, then fails to serialise and is
        run again by Odoo, now counting the first."""
        for product in products.sorted("id"):
            self.env.cr.execute(
                """
                INSERT INTO retail_api_stock_lock (warehouse_id, product_id, version)
                VALUES (%s, %s, 1)
                ON CONFLICT (warehouse_id, product_id)
                DO UPDATE SET version = retail_api_stock_lock.version + 1
                """,
                (warehouse.id, product.id),
            )

    def init(self):
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS retail_api_stock_lock (
                warehouse_id integer NOT NULL,
                product_id integer NOT NULL,
                version integer NOT NULL,
                PRIMARY KEY (warehouse_id, product_id)
            )
            """
        )

    # Life cycle ----------------------------------------------------------------

    @api.model
    def _reserve(self, client, warehouse, partner, quantities, minutes, reference):
        """A new reservation of ``quantities`` ({product: qty}), or the
        products short of stock: (reservation, {product: available})."""
        products = self.env["product.product"].concat(*quantities)
        self._lock_stock(warehouse, products)
        levels = self._available(client.backend_id, warehouse, products)
        short = {
            product: levels[product.id][2]
            for product, qty in quantities.items()
            if qty > levels[product.id][2]
        }
        if short:
            return self.browse(), short
        reservation = self.create(
            {
                "client_id": client.id,
                "company_id": client.company_id.id,
                "warehouse_id": warehouse.id,
                "partner_id": partner.id,
                "reference": reference,
                "expires_at": fields.Datetime.now() + timedelta(minutes=minutes),
                "line_ids": [
                    (0, 0, {"product_id": product.id, "quantity": qty})
                    for product, qty in quantities.items()
                ],
            }
        )
        return reservation, {}

    def _confirm(self):
        """The reservation becomes a sale order confirmed at its store, whose
        picking now holds the stock."""
        self.ensure_one()
        if self.state != "active":
            raise UserError(
                _(
                    "%(name)s is %(state)s: it cannot be confirmed.",
                    name=self.name,
                    state=self.state,
                )
            )
        if self.expires_at <= fields.Datetime.now():
            raise UserError(
                _(
                    "%(name)s expired at %(time)s UTC: it cannot be confirmed.",
                    name=self.name,
                    time=self.expires_at,
                )
            )
        # sudo: the client's configuration is the API's, not its technical user's
        backend = self.client_id.sudo().backend_id
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner_id.id,
                "company_id": self.company_id.id,
                "warehouse_id": self.warehouse_id.id,
                "pricelist_id": backend.pricelist_id.id or False,
                "team_id": backend.team_id.id or False,
                "client_order_ref": self.reference or False,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": line.product_id.id,
                            "product_uom_qty": line.quantity,
                        },
                    )
                    for line in self.line_ids
                ],
            }
        )
        order.action_confirm()
        self.write({"state": "confirmed", "sale_order_id": order.id})
        return order

    def _release(self, reason, state="released"):
        for reservation in self.filtered(lambda r: r.state == "active"):
            reservation.write({"state": state, "release_reason": reason})
        return True

    def action_release(self):
        return self._release(_("Released by %(user)s.", user=self.env.user.name))

    def action_cannot_fulfil(self):
        """Compensation: the store cannot hand the goods over. The reservation
        (or the order it became) is released and the channel is told through
        the outbox (``reservation.released``)."""
        for reservation in self:
            if reservation.state == "confirmed" and reservation.sale_order_id:
                reservation.sale_order_id._action_cancel()
            elif reservation.state != "active":
                continue
            reservation.write(
                {
                    "state": "released",
                    "release_reason": _("The store cannot fulfil it."),
                }
            )
        self.env["retail.outbox.event"]._capture("reservation.released", self)
        return True

    @api.model
    def _cron_expire(self):
        expired = self.search(
            [("state", "=", "active"), ("expires_at", "<=", fields.Datetime.now())]
        )
        expired._release(_("Expired."), state="expired")
        self.env["retail.outbox.event"]._capture("reservation.released", expired)
        return expired


@payloads.register("reservation.released")
def reservation_released(reservation, scope):
    """A reservation released because the store cannot fulfil it, or expired."""
    if reservation.state not in ("released", "expired"):
        return None
    return {
        "id": reservation.id,
        "reference": reservation.reference or None,
        "state": reservation.state,
        "reason": reservation.release_reason or None,
        "warehouse": {
            "id": reservation.warehouse_id.id,
            "code": reservation.warehouse_id.code,
        },
        "order": reservation.sale_order_id.name or None,
        "lines": [
            {"sku": line.product_id.default_code or None, "quantity": line.quantity}
            for line in reservation.line_ids
        ],
    }


class RetailApiReservationLine(models.Model):
    _name = "retail.api.reservation.line"
    _description = "Click-and-Collect Reservation Line"

    reservation_id = fields.Many2one(
        "retail.api.reservation", required=True, ondelete="cascade", index=True
    )
    product_id = fields.Many2one("product.product", required=True)
    quantity = fields.Float(required=True, digits="Product Unit of Measure")
    warehouse_id = fields.Many2one(related="reservation_id.warehouse_id", store=True)
    state = fields.Selection(related="reservation_id.state", store=True, index=True)
