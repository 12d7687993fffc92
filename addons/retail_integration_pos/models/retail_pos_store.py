from odoo import api, fields, models

from odoo.addons.base.models.res_partner import _tz_get


class RetailPosStore(models.Model):
    """A store of a POS backend: its external location id, and where its
    stock and prices live in Odoo."""

    _name = "retail.pos.store"
    _description = "POS Store"
    _order = "backend_id, name, id"
    _check_company_auto = True

    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True
    )
    name = fields.Char(required=True)
    code = fields.Char(
        "External Store ID",
        required=True,
        help="The store's id in the POS (Square: the location id).",
    )
    active = fields.Boolean(default=True)
    warehouse_id = fields.Many2one("stock.warehouse", required=True, check_company=True)
    location_id = fields.Many2one(
        "stock.location",
        compute="_compute_location_id",
        help="Where the store's sales take stock from: the warehouse's "
        "point-of-sale operation type's source.",
    )
    pricelist_id = fields.Many2one("product.pricelist", check_company=True)
    tz = fields.Selection(
        _tz_get,
        "Time Zone",
        default="UTC",
        required=True,
        help="Gives a ticket without a business date the store's local date.",
    )
    register_ids = fields.One2many("retail.pos.register", "store_id", "Registers")

    _sql_constraints = [
        (
            "code_uniq",
            "unique(backend_id, code)",
            "Another store of this backend has this external id.",
        ),
    ]

    @api.depends("warehouse_id")
    def _compute_location_id(self):
        for store in self:
            picking_type = store.warehouse_id.pos_type_id
            store.location_id = (
                picking_type.default_location_src_id or store.warehouse_id.lot_stock_id
            )
