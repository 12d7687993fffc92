import logging
import random
from datetime import timedelta
from decimal import Decimal

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError

from ..lib import settlement
from ..lib.tickets import ZReport

_logger = logging.getLogger(__name__)


class RetailPosZReport(models.Model):
    """A register's end-of-day closing totals (Z report), and how they
    compare with the tickets Odoo received for that register and day."""

    _name = "retail.pos.zreport"
    _description = "POS Z Report"
    _inherit = ["mail.thread"]
    _order = "business_date desc, store_code, register_code"

    backend_id = fields.Many2one(
        "retail.backend", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    store_day_id = fields.Many2one(
        "retail.pos.store.day", readonly=True, ondelete="cascade", index=True
    )
    store_code = fields.Char("Store Code", required=True, readonly=True)
    register_code = fields.Char("Register Code", required=True, readonly=True)
    register_id = fields.Many2one("retail.pos.register", readonly=True)
    business_date = fields.Date(required=True, readonly=True)
    ticket_count = fields.Integer("Tickets Expected", readonly=True)
    first_number = fields.Char(readonly=True)
    last_number = fields.Char(readonly=True)
    totals = fields.Json("Totals per Method", readonly=True)
    cash_counted = fields.Float(readonly=True)
    has_cash_counted = fields.Boolean(readonly=True)
    received_at = fields.Datetime(readonly=True)
    deadline = fields.Datetime(
        readonly=True,
        help="Until then, missing tickets are waited for; then the difference "
        "goes to the exceptions inbox.",
    )
    state = fields.Selection(
        [
            ("waiting", "Waiting for Tickets"),
            ("balanced", "Balanced"),
            ("difference", "Difference"),
            ("accepted", "Difference Accepted"),
            ("posted", "Posted"),
        ],
        default="waiting",
        required=True,
        readonly=True,
        tracking=True,
    )
    received_count = fields.Integer("Tickets Received", readonly=True)
    missing_numbers = fields.Char(readonly=True)
    summary = fields.Text(readonly=True)
    line_ids = fields.One2many("retail.pos.settlement.line", "zreport_id")
    session_id = fields.Many2one("pos.session", readonly=True)
    exception_id = fields.Many2one("retail.sync.exception", readonly=True)
    checked_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "zreport_uniq",
            "unique(backend_id, store_code, register_code, business_date)",
            "A register has one Z report per business day.",
        ),
    ]

    @api.depends("store_code", "register_code", "business_date")
    def _compute_display_name(self):
        for z in self:
            z.display_name = f"Z {z.store_code}/{z.register_code} {z.business_date}"

    # Receiving ---------------------------------------------------------------

    @api.model
    def _receive(self, backend, report, message=None):
        """Store ``report`` (tickets.ZReport), replacing a previous one of the
        same register and day unless that day is posted; check it."""
        existing = self.search(
            [
                ("backend_id", "=", backend.id),
                ("store_code", "=", report.store),
                ("register_code", "=", report.register),
                ("business_date", "=", report.business_date),
            ]
        )
        if existing.state in ("posted", "accepted"):
            return existing, _(
                "Z report %(name)s is already %(state)s: the new one is not applied.",
                name=existing.display_name,
                state=existing.state,
            )
        now = fields.Datetime.now()
        store = backend.pos_store_ids.filtered(lambda s: s.code == report.store)
        register = store.register_ids.filtered(lambda r: r.code == report.register)
        day = self.env["retail.pos.store.day"]._touch(
            backend, {(report.store, report.business_date)}
        )
        vals = {
            "backend_id": backend.id,
            "store_code": report.store,
            "register_code": report.register,
            "register_id": register.id,
            "business_date": report.business_date,
            "store_day_id": day[:1].id,
            "ticket_count": report.ticket_count,
            "first_number": report.first_number or False,
            "last_number": report.last_number or False,
            "totals": {k: str(v) for k, v in report.totals.items()},
            "cash_counted": float(report.cash_counted or 0),
            "has_cash_counted": report.cash_counted is not None,
            "received_at": now,
            "deadline": now
            + timedelta(hours=backend.pos_settlement_deadline_hours or 0),
            "state": "waiting",
        }
        if existing:
            existing.write(vals)
            zreport = existing
        else:
            zreport = self.create(vals)
        zreport._check()
        return zreport, zreport.summary

    # Checking ----------------------------------------------------------------

    @api.model
    def _recheck_later(self, backend, registers):
        """A job re-checking the Z reports of ``registers`` {(store, register,
        date)} that wait or differ (one pending job per Z report)."""
        if not registers:
            return
        domain = [
            ("backend_id", "=", backend.id),
            ("state", "in", ("waiting", "difference")),
        ]
        dates = list({d for _s, _r, d in registers})
        candidates = self.search(domain + [("business_date", "in", dates)])
        for z in candidates:
            if (z.store_code, z.register_code, z.business_date) in registers:
                backend._with_delay(
                    z.with_user(backend.technical_user_id),
                    identity_key=f"retail-pos-zcheck-{z.id}",
                    description=_("Re-check %(name)s", name=z.display_name),
                )._check()

    def _ticket_numbers(self):
        self.ensure_one()
        self.env.cr.execute(
            """SELECT number FROM retail_pos_ticket
               WHERE backend_id = %s AND store_code = %s AND register_code = %s
                 AND business_date = %s AND state IN ('done', 'void')""",
            [
                self.backend_id.id,
                self.store_code,
                self.register_code,
                self.business_date,
            ],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _received_by_method(self):
        """{pos.payment.method id: amount} of the register's imported tickets."""
        self.ensure_one()
        self.env["pos.payment"].flush_model()
        self.env.cr.execute(
            """SELECT p.payment_method_id, SUM(p.amount)
               FROM retail_pos_ticket t
               JOIN pos_payment p ON p.pos_order_id = t.pos_order_id
               WHERE t.backend_id = %s AND t.store_code = %s AND t.register_code = %s
                 AND t.business_date = %s AND t.state = 'done'
               GROUP BY p.payment_method_id""",
            [
                self.backend_id.id,
                self.store_code,
                self.register_code,
                self.business_date,
            ],
        )
        return {
            method: Decimal(str(amount)).quantize(Decimal("0.01"))
            for method, amount in self.env.cr.fetchall()
        }

    def _expected_by_method(self, register):
        """{method key: amount}: the Z report's totals per Odoo payment
        method (a method the backend does not map keeps its own name)."""
        maps = {m.code: m for m in self.backend_id.pos_payment_map_ids}
        expected = {}
        for code, amount in (self.totals or {}).items():
            mapping = maps.get(code)
            method = mapping._method_for(register) if mapping and register else None
            key = method.id if method else f"code:{code}"
            expected[key] = expected.get(key, Decimal(0)) + Decimal(amount)
        return expected

    def _check(self):
        """Compare each Z report with the tickets received; move it on."""
        now = fields.Datetime.now()
        for z in self:
            if z.state in ("posted", "accepted"):
                continue
            register = z.register_id or z.backend_id.pos_store_ids.filtered(
                lambda s, z=z: s.code == z.store_code
            ).register_ids.filtered(lambda r, z=z: r.code == z.register_code)
            expected = z._expected_by_method(register)
            received = z._received_by_method()
            cash = register._cash_method() if register else None
            report = ZReport(
                store=z.store_code,
                register=z.register_code,
                business_date=z.business_date,
                ticket_count=z.ticket_count,
                first_number=z.first_number or "",
                last_number=z.last_number or "",
                totals=expected,
                cash_counted=Decimal(str(z.cash_counted))
                if z.has_cash_counted
                else None,
                closed_at=None,
            )
            result = settlement.check(
                report,
                z._ticket_numbers(),
                received,
                received.get(cash.id, Decimal(0)) if cash else None,
            )
            state = result.state
            if state == settlement.WAITING and (not z.deadline or now >= z.deadline):
                state = settlement.DIFFERENCE
            session = self.env["pos.session"].search(
                [
                    ("retail_register_id", "=", register.id if register else 0),
                    ("retail_business_date", "=", z.business_date),
                    ("retail_rescue", "=", False),
                ],
                limit=1,
            )
            z._write_lines(result)
            z.write(
                {
                    "state": state,
                    "register_id": register.id if register else False,
                    "received_count": result.received_count,
                    "missing_numbers": settlement.format_missing(result.missing)
                    or False,
                    "summary": z._summary(result),
                    "session_id": session.id,
                    "checked_at": now,
                }
            )
            if state == settlement.DIFFERENCE:
                z._report_difference()
            elif z.exception_id:
                # sudo: the inbox item of this Z report is closed on its behalf
                self.env["retail.sync.exception"].sudo()._resolve_for(
                    z, _("Resolved: the day balances now.")
                )
            if state == settlement.BALANCED and z.backend_id.pos_auto_post:
                z._post_later()
        return True

    def _method_name(self, key):
        if isinstance(key, str):
            return key.removeprefix("code:") + _(" (not mapped)")
        return self.env["pos.payment.method"].browse(key).name

    def _write_lines(self, result):
        self.line_ids.unlink()
        lines = [
            {
                "zreport_id": self.id,
                "method": self._method_name(m.method),
                "expected": float(m.expected),
                "received": float(m.received),
            }
            for m in result.methods
        ]
        if self.has_cash_counted:
            lines.append(
                {
                    "zreport_id": self.id,
                    "method": _("Cash counted in the drawer"),
                    "expected": self.cash_counted,
                    "received": self.cash_counted - float(result.cash_difference),
                }
            )
        self.env["retail.pos.settlement.line"].create(lines)

    def _summary(self, result):
        parts = [
            _(
                "%(received)s of %(expected)s tickets received.",
                received=result.received_count,
                expected=result.expected_count,
            )
        ]
        if result.missing:
            parts.append(
                _(
                    "Missing: %(numbers)s.",
                    numbers=settlement.format_missing(result.missing),
                )
            )
        for m in result.differences:
            parts.append(
                _(
                    "%(method)s: Z report %(expected)s, received %(received)s "
                    "(difference %(difference)s).",
                    method=self._method_name(m.method),
                    expected=m.expected,
                    received=m.received,
                    difference=m.difference,
                )
            )
        if abs(result.cash_difference) >= Decimal("0.01"):
            parts.append(
                _(
                    "Cash counted %(counted)s, cash received %(received)s "
                    "(difference %(difference)s).",
                    counted=f"{self.cash_counted:.2f}",
                    received=Decimal(str(self.cash_counted)) - result.cash_difference,
                    difference=result.cash_difference,
                )
            )
        return " ".join(str(p) for p in parts)

    def _report_difference(self):
        self.ensure_one()
        store = self.register_id.store_id.name or self.store_code
        cause = _(
            "Register %(register)s at store %(store)s, %(date)s does not balance: "
            "%(summary)s The session stays open; late tickets re-check it.",
            register=self.register_code,
            store=store,
            date=self.business_date,
            summary=self.summary,
        )
        exception = (
            self.env["retail.sync.exception"]
            # sudo: inbox items are filed on the backend's behalf
            .sudo()
            ._report(
                cause,
                name=_(
                    "Z report %(register)s %(date)s: difference",
                    register=self.register_code,
                    date=self.business_date,
                ),
                backend=self.backend_id,
                kind="data",
                source=self,
                document=self.store_day_id,
                key="pos:zreport",
            )
        )
        self.exception_id = exception

    def _retail_exception_retry(self):
        """The inbox's Retry: check again."""
        return self._check()

    # Posting -----------------------------------------------------------------

    def _post_eta(self):
        """When the backend's posting window next opens (None: it is open)."""
        return self.backend_id._pos_post_eta()

    def _post_later(self):
        for z in self:
            backend = z.backend_id
            backend._ensure_technical_user()
            backend._with_delay(
                z.with_user(backend.technical_user_id),
                eta=z._post_eta(),
                identity_key=f"retail-pos-post-{z.id}",
                description=_("Post %(name)s", name=z.display_name),
            )._post()

    def _post(self):
        """Job: close and post the session of each balanced (or accepted) day."""
        for z in self.filtered(lambda r: r.state in ("balanced", "accepted")):
            session = z.session_id
            if session and session.state != "closed":
                try:
                    with self.env.cr.savepoint():
                        session.action_pos_session_closing_control()
                        self.env.flush_all()
                except psycopg2.IntegrityError as err:
                    # Another day of the company was posted at the same time:
                    # both numbered a journal entry alike. Again, a bit later.
                    raise RetryableJobError(
                        _("Another session was posted at the same time; retrying."),
                        seconds=random.randint(2, 8),
                    ) from err
                except UserError as err:
                    # sudo: inbox items are filed on the backend's behalf
                    self.env["retail.sync.exception"].sudo()._report(
                        _(
                            "The session %(session)s of %(name)s could not be "
                            "closed: %(error)s",
                            session=session.name,
                            name=z.display_name,
                            error=err.args[0],
                        ),
                        backend=z.backend_id,
                        kind="configuration",
                        source=z,
                        key="pos:post",
                    )
                    continue
            z.write({"state": "posted"})
            z.message_post(body=_("Session closed and posted."))
        return True

    def _accept(self, reason):
        for z in self.filtered(lambda r: r.state in ("waiting", "difference")):
            z.write({"state": "accepted"})
            z.message_post(body=_("Difference accepted: %(reason)s", reason=reason))
            if z.exception_id:
                # sudo: the inbox item of this Z report is closed on its behalf
                self.env["retail.sync.exception"].sudo()._resolve_for(
                    z,
                    _(
                        "Resolved: the difference was accepted (%(reason)s).",
                        reason=reason,
                    ),
                )
            z._post_later()

    @api.model
    def _cron_settle(self):
        """Z reports past their deadline, and returns waiting past theirs."""
        late = self.search(
            [("state", "=", "waiting"), ("deadline", "<=", fields.Datetime.now())]
        )
        for backend in late.backend_id:
            late.filtered(lambda z, b=backend: z.backend_id == b).with_user(
                backend.technical_user_id
            )._check()
        unposted = self.search(
            [
                ("state", "in", ("balanced", "accepted")),
                ("write_date", "<", fields.Datetime.now() - timedelta(minutes=30)),
            ]
        )
        unposted.filtered(
            lambda z: z.state == "accepted" or z.backend_id.pos_auto_post
        )._post_later()
        self.env["pos.session"]._retail_post_rescues()
        waiting = self.env["retail.pos.ticket"].search([("state", "=", "waiting")])
        for backend in waiting.backend_id:
            tickets = waiting.filtered(lambda t, b=backend: t.backend_id == b)
            tickets._enqueue_import(backend)
        return True
