from odoo import _, api, fields, models
from odoo.exceptions import UserError

STATES = [
    ("open", "Open"),
    ("waiting", "Waiting for Tickets"),
    ("balanced", "Balanced"),
    ("posted", "Posted"),
    ("difference", "Difference"),
]


class RetailPosStoreDay(models.Model):
    """A store's business day: tickets received, what the Z reports of its
    registers expect, what is missing, and the totals side by side."""

    _name = "retail.pos.store.day"
    _description = "Store Day"
    _inherit = ["mail.thread"]
    _mail_post_access = "read"
    _order = "business_date desc, store_id"

    backend_id = fields.Many2one(
        "retail.backend", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    store_code = fields.Char("Store Code", required=True, readonly=True)
    store_id = fields.Many2one("retail.pos.store", "Store", readonly=True)
    business_date = fields.Date(required=True, readonly=True)
    zreport_ids = fields.One2many("retail.pos.zreport", "store_day_id", "Z Reports")
    line_ids = fields.One2many(
        "retail.pos.settlement.line", "store_day_id", "Totals per Method"
    )
    state = fields.Selection(STATES, compute="_compute_figures")
    tickets_received = fields.Integer(compute="_compute_figures")
    tickets_expected = fields.Integer(compute="_compute_figures")
    tickets_failed = fields.Integer(compute="_compute_figures")
    tickets_waiting = fields.Integer(compute="_compute_figures")
    missing_numbers = fields.Text(compute="_compute_figures")
    session_ids = fields.Many2many("pos.session", compute="_compute_figures")
    difference_reason = fields.Text(readonly=True)

    _sql_constraints = [
        (
            "day_uniq",
            "unique(backend_id, store_code, business_date)",
            "A store has one store day per date.",
        ),
    ]

    @api.depends("store_id", "store_code", "business_date")
    def _compute_display_name(self):
        for day in self:
            day.display_name = (
                f"{day.store_id.name or day.store_code} · {day.business_date}"
            )

    @api.model
    def _touch(self, backend, days):
        """The store days of ``days`` {(store code, date)}, created if new
        (ON CONFLICT: concurrent jobs may meet the same day)."""
        if not days:
            return self.browse()
        stores = {s.code: s.id for s in backend.pos_store_ids}
        found = self.search(
            [
                ("backend_id", "=", backend.id),
                ("store_code", "in", list({s for s, _d in days})),
                ("business_date", "in", list({d for _s, d in days})),
            ]
        )
        known = {(d.store_code, d.business_date) for d in found}
        missing = sorted(days - known)
        if missing:
            self.flush_model()
            now = fields.Datetime.now()
            rows = [
                (
                    backend.id,
                    backend.company_id.id,
                    store,
                    stores.get(store),
                    date,
                    self.env.uid,
                    now,
                    self.env.uid,
                    now,
                )
                for store, date in missing
            ]
            values = ", ".join(["%s"] * len(rows))
            self.env.cr.execute(
                f"""INSERT INTO retail_pos_store_day
                    (backend_id, company_id, store_code, store_id, business_date,
                     create_uid, create_date, write_uid, write_date)
                    VALUES {values} ON CONFLICT DO NOTHING RETURNING id""",  # noqa: S608
                rows,
            )
            found |= self.browse([row[0] for row in self.env.cr.fetchall()])
        return found.filtered(lambda d: (d.store_code, d.business_date) in days)

    def _compute_figures(self):
        Ticket = self.env["retail.pos.ticket"]
        for day in self:
            domain = [
                ("backend_id", "=", day.backend_id.id),
                ("store_code", "=", day.store_code),
                ("business_date", "=", day.business_date),
            ]
            counts = dict(Ticket._read_group(domain, ["state"], ["__count"]))
            day.tickets_received = counts.get("done", 0) + counts.get("void", 0)
            day.tickets_failed = counts.get("failed", 0)
            day.tickets_waiting = counts.get("waiting", 0) + counts.get("pending", 0)
            zreports = day.zreport_ids
            day.tickets_expected = sum(zreports.mapped("ticket_count"))
            day.missing_numbers = "\n".join(
                f"{z.register_code}: {z.missing_numbers}"
                for z in zreports
                if z.missing_numbers
            )
            day.session_ids = zreports.session_id
            registers = set(Ticket.search(domain).mapped("register_code")) - set(
                zreports.mapped("register_code")
            )
            states = set(zreports.mapped("state"))
            if "difference" in states:
                day.state = "difference"
            elif "waiting" in states:
                day.state = "waiting"
            elif not zreports or registers:
                day.state = "open"
            elif states <= {"posted"}:
                day.state = "posted"
            else:
                day.state = "balanced"

    def _zreports_as_connector(self):
        self.ensure_one()
        backend = self.backend_id
        backend._ensure_technical_user()
        return self.zreport_ids.with_user(backend.technical_user_id)

    def action_recheck(self):
        for day in self:
            day._zreports_as_connector()._check()
            day.message_post(body=_("Re-checked against the tickets received."))
        return True

    def action_accept_difference(self):
        self.ensure_one()
        if self.state not in ("difference", "waiting"):
            raise UserError(_("Only a day with a difference can be accepted."))
        return {
            "type": "ir.actions.act_window",
            "res_model": "retail.pos.accept.difference",
            "view_mode": "form",
            "target": "new",
            "context": {"default_store_day_id": self.id},
        }

    def _accept_difference(self, reason):
        self.ensure_one()
        # sudo: the reason is kept on the day (read-only for its users)
        self.sudo().difference_reason = reason
        self.message_post(
            body=_(
                "Difference accepted by %(user)s: %(reason)s",
                user=self.env.user.name,
                reason=reason,
            )
        )
        self._zreports_as_connector()._accept(reason)
        return True

    def action_open_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retail_integration_pos.retail_pos_ticket_action"
        )
        action["domain"] = [
            ("backend_id", "=", self.backend_id.id),
            ("store_code", "=", self.store_code),
            ("business_date", "=", self.business_date),
        ]
        return action
