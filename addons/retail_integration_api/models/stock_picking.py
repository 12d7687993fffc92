from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _action_done(self):
        res = super()._action_done()
        # sudo: the warehouse user receiving the goods moves the API return on,
        # whether or not they may write returns
        self.env["retail.api.return"].sudo().search(
            [("picking_id", "in", self.ids), ("state", "=", "open")]
        )._goods_received()
        return res
