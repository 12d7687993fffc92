from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib.square_client import SquareClient


class RetailBackend(models.Model):
    """A store POS backend: its stores and registers, how their payment
    methods map, and the settlement policy."""

    _inherit = "retail.backend"

    provider = fields.Selection(
        selection_add=[("square", "Square")], ondelete={"square": "set default"}
    )
    pos_store_ids = fields.One2many("retail.pos.store", "backend_id", "Stores")
    pos_payment_map_ids = fields.One2many(
        "retail.pos.payment.map", "backend_id", "Payment Methods"
    )
    pos_unreferenced_returns = fields.Selection(
        [
            ("review", "Import and flag for review"),
            ("refuse", "Refuse (to the exceptions inbox)"),
        ],
        "Returns Without Receipt",
        default="review",
        required=True,
        help="A return ticket that names no original ticket (receipt lost).",
    )
    pos_return_wait_hours = fields.Integer(
        "Wait for Original Ticket (h)",
        default=24,
        help="A return naming a ticket not received yet waits this long for "
        "it, then is handled as a return without receipt.",
    )
    pos_settlement_deadline_hours = fields.Float(
        "Late Ticket Deadline (h)",
        default=6.0,
        help="A Z report whose tickets are missing waits this long after it "
        "arrived for the late tickets; then the difference goes to the inbox.",
    )
    pos_auto_post = fields.Boolean(
        "Post Balanced Days",
        default=True,
        help="Close and post a register's session as soon as its Z report balances.",
    )
    pos_post_window_start = fields.Float(
        "Posting Window From",
        default=0.0,
        help="Hour (UTC) from which sessions are closed and posted.",
    )
    pos_post_window_end = fields.Float(
        "Posting Window To", default=24.0, help="Hour (UTC) until which they are."
    )
    pos_chunk_size = fields.Integer(
        "Tickets per Job",
        default=100,
        help="Tickets of a batch imported by one background job.",
    )
    pos_api_url = fields.Char(
        "Square API URL",
        default="https://connect.squareup.com",
        help="Square's API root (https://connect.squareupsandbox.com for the sandbox).",
    )
    pos_store_day_count = fields.Integer(compute="_compute_pos_store_day_count")

    _sql_constraints = [
        (
            "pos_chunk_size_positive",
            "CHECK(pos_chunk_size IS NULL OR pos_chunk_size BETWEEN 1 AND 500)",
            "Tickets per job: between 1 and 500.",
        ),
    ]

    def _compute_pos_store_day_count(self):
        groups = self.env["retail.pos.store.day"]._read_group(
            [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
        )
        counts = {backend.id: count for backend, count in groups}
        for backend in self:
            backend.pos_store_day_count = counts.get(backend.id, 0)

    @api.constrains("channel_type", "provider")
    def _check_pos_provider(self):
        for backend in self:
            if backend.provider == "square" and backend.channel_type != "pos":
                raise UserError(_("Square backends are store POS backends."))

    def _pos_check(self):
        self.ensure_one()
        if self.channel_type != "pos":
            raise UserError(
                _("Backend %(name)s is not a store POS backend.", name=self.name)
            )

    def _pos_square_client(self):
        self.ensure_one()
        token = self._get_secret("api_secret")
        if not token:
            raise UserError(
                _("Backend %(name)s has no Square access token.", name=self.name)
            )
        return SquareClient(self.pos_api_url, token)

    def action_pos_open_store_days(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retail_integration_pos.retail_pos_store_day_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action

    def action_pos_create_configs(self):
        """A point of sale (pos.config) for every register without one."""
        for backend in self:
            backend._pos_check()
            for register in backend.pos_store_ids.register_ids:
                if not register.pos_config_id:
                    register._create_pos_config()
        return True
