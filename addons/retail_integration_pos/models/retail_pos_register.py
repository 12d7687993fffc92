from odoo import _, api, fields, models


class RetailPosRegister(models.Model):
    """An external register (till) of a store, and the Odoo point of sale
    (pos.config) its tickets are recorded in."""

    _name = "retail.pos.register"
    _description = "POS Register"
    _order = "store_id, code, id"
    _check_company_auto = True

    store_id = fields.Many2one(
        "retail.pos.store", required=True, ondelete="cascade", index=True
    )
    backend_id = fields.Many2one(related="store_id.backend_id", store=True, index=True)
    company_id = fields.Many2one(related="store_id.company_id", store=True)
    code = fields.Char("External Register ID", required=True)
    name = fields.Char(compute="_compute_name", store=True)
    pos_config_id = fields.Many2one(
        "pos.config",
        "Point of Sale",
        check_company=True,
        help="The Odoo point of sale its tickets go to: one session per business day.",
    )

    _sql_constraints = [
        (
            "code_uniq",
            "unique(store_id, code)",
            "Another register of this store has this external id.",
        ),
        (
            "config_uniq",
            "unique(pos_config_id)",
            "This point of sale is mapped to another register.",
        ),
    ]

    @api.depends("store_id.name", "code")
    def _compute_name(self):
        for register in self:
            register.name = f"{register.store_id.name} {register.code}"

    def _cash_method(self):
        self.ensure_one()
        return self.pos_config_id.payment_method_ids.filtered("is_cash_count")[:1]

    def _create_pos_config(self):
        """A point of sale for this register: its own cash method (Odoo
        allows a cash method in one point of sale only), the backend's mapped
        non-cash methods, the store's warehouse and pricelist."""
        self.ensure_one()
        store = self.store_id
        config_model = self.env["pos.config"].with_company(self.company_id)
        cash = config_model._create_cash_payment_method(
            {"name": _("Cash %(register)s", register=self.name)}
        )
        others = self.backend_id.pos_payment_map_ids.payment_method_id.filtered(
            lambda m: not m.is_cash_count
        )
        vals = {
            "name": self.name,
            "company_id": self.company_id.id,
            "picking_type_id": store.warehouse_id.pos_type_id.id,
            "payment_method_ids": [(6, 0, (cash | others).ids)],
        }
        if store.pricelist_id:
            vals.update(
                use_pricelist=True,
                pricelist_id=store.pricelist_id.id,
                available_pricelist_ids=[(6, 0, store.pricelist_id.ids)],
            )
        self.pos_config_id = config_model.create(vals)
        return self.pos_config_id
