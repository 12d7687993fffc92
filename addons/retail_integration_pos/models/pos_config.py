from odoo import fields, models


class PosConfig(models.Model):
    _inherit = "pos.config"

    retail_register_ids = fields.One2many(
        "retail.pos.register", "pos_config_id", "External Register"
    )
