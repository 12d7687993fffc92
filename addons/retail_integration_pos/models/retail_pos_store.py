from odoo import api, fields, models

from odoo.addons.base.models.res_partner import _tz_get
from odoo.addons.retail_integration_outbox.lib import payloads
from odoo.addons.retail_integration_outbox.lib.events import PRICE_CHANGED
from odoo.addons.retail_integration_outbox.models.product import price_changed


@payloads.register(PRICE_CHANGED)
def price_changed_at_stores(product, scope):
    """A price of a pricelist, and which stores sell at it (``stores``: their
    backend's code and their external id), for the tills' receiver."""
    data = price_changed(product, scope)
    if "retail.pos.store" not in product.env:
        return data  # a database of the same server without this module
    pricelist = product.env["product.pricelist"].browse(scope[1])
    # sudo: which stores sell at a pricelist, whoever changed the price
    stores = product.env["retail.pos.store"].sudo()._for_pricelist(pricelist)
    # The event goes to the subscriptions of the pricelist's company (the
    # product's; every company's without one): no other company's stores.
    company = pricelist.company_id or product.company_id
    if company:
        stores = stores.filtered(lambda store: store.company_id == company)
    if stores:
        data["stores"] = [
            {"backend": store.backend_id.code, "code": store.code, "name": store.name}
            for store in stores
        ]
    return data


class RetailPosStore(models.Model):
    """A store of a POS backend: its external location id, and where its
    stock and prices live in Odoo."""

    _name = "retail.pos.store"
    _description = "POS Store"
    # Its pricelist is one its backend's subscriptions take prices of
    # (retail.backend._outbox_pricelist_ids): the outbox's routes follow it.
    _inherit = ["retail.outbox.routing.source"]
    _routing_fields = {"pricelist_id", "active", "backend_id"}
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
    pricelist_id = fields.Many2one(
        "product.pricelist",
        check_company=True,
        help="The store's prices, sent to its tills (the backend's pricelist "
        "when empty).",
    )
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

    @api.model
    def _for_pricelist(self, pricelist):
        """The active stores of POS backends that sell at ``pricelist`` (their
        own, or their backend's when they have none)."""
        return self.search(
            [
                ("backend_id.channel_type", "=", "pos"),
                "|",
                ("pricelist_id", "=", pricelist.id),
                "&",
                ("pricelist_id", "=", False),
                ("backend_id.pricelist_id", "=", pricelist.id),
            ]
        )
