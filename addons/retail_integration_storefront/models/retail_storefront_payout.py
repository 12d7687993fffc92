from datetime import UTC, datetime

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero

KINDS = [
    ("charge", "Charge"),
    ("payment", "Payment"),
    ("refund", "Refund"),
    ("adjustment", "Adjustment"),
    ("stripe_fee", "Fee"),
    ("other", "Other"),
]
ORDER_KINDS = ("charge", "payment", "refund")


class RetailStorefrontPayout(models.Model):
    """Money a payment provider paid out to the bank, and what it settles:
    the orders' payments less refunds, fees and adjustments. Matched, it is
    posted as one entry: the bank's outstanding receipts (the payout, for the
    bank statement to match), the fees, and the provider's clearing account
    (the orders' payments, reconciled with them)."""

    _name = "retail.storefront.payout"
    _description = "Channel Payout"
    _inherit = ["mail.thread"]
    _order = "arrival_date desc, id desc"
    _check_company_auto = True

    name = fields.Char("Payout", required=True, readonly=True)
    backend_id = fields.Many2one(
        "retail.backend", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    amount = fields.Monetary("Paid Out", readonly=True)
    arrival_date = fields.Date(readonly=True)
    state = fields.Selection(
        [("difference", "Difference"), ("posted", "Posted")],
        required=True,
        default="difference",
        tracking=True,
    )
    line_ids = fields.One2many("retail.storefront.payout.line", "payout_id")
    net_total = fields.Monetary("Lines Net", compute="_compute_totals")
    fee_total = fields.Monetary("Fees", compute="_compute_totals")
    difference = fields.Monetary(compute="_compute_totals")
    unmatched_count = fields.Integer("Unmatched Lines", compute="_compute_totals")
    move_id = fields.Many2one("account.move", "Entry", readonly=True, copy=False)

    _sql_constraints = [
        ("name_uniq", "unique(backend_id, name)", "A payout is recorded once."),
    ]

    @api.depends("amount", "line_ids.net", "line_ids.fee", "line_ids.problem")
    def _compute_totals(self):
        for payout in self:
            lines = payout.line_ids
            payout.net_total = sum(lines.mapped("net"))
            payout.fee_total = sum(lines.mapped("fee"))
            payout.difference = payout.amount - payout.net_total
            payout.unmatched_count = len(lines.filtered("problem"))

    # Import -----------------------------------------------------------------

    @api.model
    def _record(self, backend, payout, read_lines):
        """A provider's payout (``lib.payout.Payout``: Stripe's ``payout.paid``,
        a fetched Shopify Payments payout) and its lines (``read_lines()``:
        ``lib.payout.BalanceLine``, read only the first time), checked and
        posted if they match; once."""
        existing = self.search(
            [("backend_id", "=", backend.id), ("name", "=", payout.external_id)]
        )
        if existing:
            return existing, _(
                "Payout %(id)s was already recorded.", id=payout.external_id
            )
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", payout.currency)], limit=1)
        )
        if not currency:
            raise UserError(_("Unknown currency %(code)s.", code=payout.currency))
        lines = [
            {
                "external_id": line.external_id,
                "kind": line.kind if line.kind in dict(KINDS) else "other",
                "description": line.description,
                "amount": float(line.amount),
                "fee": float(line.fee),
                "net": float(line.net),
                "order_ref": line.order_external_id,
            }
            for line in read_lines()
        ]
        record = self.create(
            {
                "name": payout.external_id,
                "backend_id": backend.id,
                "currency_id": currency.id,
                "amount": float(payout.amount),
                "arrival_date": datetime.fromtimestamp(payout.arrival, tz=UTC).date()
                if payout.arrival
                else False,
                "line_ids": [(0, 0, vals) for vals in lines],
            }
        )
        return record, record._check_and_post()

    # Matching and posting -------------------------------------------------------

    def _match_lines(self):
        """Each line's order (by the channel's order id) and what does not
        match, in plain words."""
        self.ensure_one()
        backend = self.backend_id
        refs = self.env["retail.external.ref"]
        tolerance = backend.storefront_payout_tolerance
        for line in self.line_ids:
            problem = False
            if line.kind in ORDER_KINDS:
                sale = line.sale_id or refs._find_record(
                    backend, "sale.order", line.order_ref
                )
                if not sale:
                    problem = _(
                        "No order %(ref)s on this channel.", ref=line.order_ref or "-"
                    )
                elif (
                    line.kind != "refund"
                    and float_compare(
                        line.amount, sale.amount_total, precision_digits=6
                    )
                    and abs(line.amount - sale.amount_total) > tolerance
                ):
                    problem = _(
                        "Charged %(amount)s, order %(sale)s totals %(total)s.",
                        amount=line.amount,
                        sale=sale.name,
                        total=sale.amount_total,
                    )
                line.sale_id = sale
            if not problem and abs(line.amount - line.fee - line.net) > tolerance:
                problem = _(
                    "Fee mismatch: %(amount)s less the fee %(fee)s is not %(net)s.",
                    amount=line.amount,
                    fee=line.fee,
                    net=line.net,
                )
            line.problem = problem

    def _check_and_post(self):
        """Match the lines; post the payout if everything matches, else file
        one inbox item listing what does not. What was done."""
        self.ensure_one()
        self._match_lines()
        tolerance = self.backend_id.storefront_payout_tolerance
        problems = [
            f"{line.external_id}: {line.problem}"
            for line in self.line_ids
            if line.problem
        ]
        if abs(self.difference) > tolerance:
            problems.append(
                _(
                    "The lines net %(net)s, the payout is %(amount)s.",
                    net=self.net_total,
                    amount=self.amount,
                )
            )
        if problems:
            # sudo: inbox items are filed on the backend's behalf
            self.env["retail.sync.exception"].sudo()._report(
                _(
                    "Payout %(id)s does not match: %(problems)s Fix the lines (pick "
                    "the order of an unknown one), then Re-check.",
                    id=self.name,
                    problems=" ".join(problems),
                ),
                name=_("Payout %(id)s does not match", id=self.name),
                backend=self.backend_id,
                kind="data",
                document=self,
                source=self,
                key="payout",
            )
            return _("%(count)s line(s) do not match: kept open.", count=len(problems))
        self._post()
        # sudo: closing the payout's own inbox items
        self.env["retail.sync.exception"].sudo()._resolve_for(
            self, _("The payout matched and was posted.")
        )
        return _("Posted as %(move)s.", move=self.move_id.name)

    def _post(self):
        """One entry in the payout journal: the payout on the bank's
        outstanding receipts (for the statement to match), the fees, and each
        settled order's money against what it is owed: its invoices'
        receivable, or its payments' outstanding receipts when those payments
        have entries of their own; reconciled with them."""
        backend = self.backend_id
        bank = backend.storefront_payout_journal_id
        fees_account = backend.storefront_fee_account_id
        if not bank or not fees_account:
            raise UserError(
                _(
                    "Set the Payout Journal and the Fees Account of %(backend)s "
                    "(Storefront tab) to post payouts.",
                    backend=backend.name,
                )
            )
        vals = [_line(self.name, _outstanding_account(bank), self.amount)]
        if not float_is_zero(self.fee_total, precision_digits=6):
            vals.append(_line(_("Fees"), fees_account, self.fee_total))
        # (sale, account) → (the open lines it settles, the labels of the
        # payout's lines that settle them: unique, as transaction ids are)
        settled = {}
        for line in self.line_ids:
            account, partner, open_lines = fees_account, False, None
            if line.sale_id:
                account, open_lines = _owed(line.sale_id)
                partner = line.sale_id.partner_invoice_id.commercial_partner_id.id
            label = f"{line.external_id} {line.order_ref or line.kind}"
            vals.append(dict(_line(label, account, -line.amount), partner_id=partner))
            if open_lines is not None:
                entry = settled.setdefault((line.sale_id, account), (open_lines, []))
                entry[1].append(label)
        move = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": bank.id,
                "date": self.arrival_date or fields.Date.context_today(self),
                "ref": _("Payout %(id)s", id=self.name),
                "line_ids": [(0, 0, v) for v in vals],
            }
        )
        move.action_post()
        self.write({"move_id": move.id, "state": "posted"})
        # one pass over the entry's lines (a payout has thousands), and one
        # reconciliation plan for every order (what ``reconcile`` does for one)
        by_label = {(ml.name, ml.account_id.id): ml.id for ml in move.line_ids}
        Line = self.env["account.move.line"]
        plan = []
        for (_sale, account), (open_lines, labels) in settled.items():
            ours = Line.browse([by_label[(label, account.id)] for label in labels])
            if open_lines and ours:
                plan.append(open_lines | ours)
        if plan:
            Line._reconcile_plan(plan)

    def action_recheck(self):
        for payout in self.filtered(lambda p: p.state == "difference"):
            result = payout._check_and_post()
            payout.message_post(body=result)
        return True


def _line(name, account, amount):
    return {
        "name": name,
        "account_id": account.id,
        "debit": max(amount, 0.0),
        "credit": max(-amount, 0.0),
    }


def _owed(sale):
    """(account, open lines) of what ``sale``'s money settles: its payments'
    outstanding receipts when they have entries, else its invoices' and
    credit notes' receivable."""
    moves = sale.invoice_ids.filtered(lambda m: m.state == "posted")
    payment_moves = moves.matched_payment_ids.move_id
    if payment_moves:
        lines = payment_moves.line_ids.filtered(
            lambda ml: (
                ml.account_id.account_type == "asset_current" and not ml.reconciled
            )
        )
    else:
        lines = moves.line_ids.filtered(
            lambda ml: (
                ml.account_id.account_type == "asset_receivable" and not ml.reconciled
            )
        )
    receivable = sale.partner_invoice_id.commercial_partner_id.with_company(
        sale.company_id
    ).property_account_receivable_id
    return (lines.account_id[:1] or receivable), lines


def _outstanding_account(journal):
    """Where a journal's incoming payments wait for the bank statement (its
    payment method's outstanding receipts account), else its own account."""
    line = journal.inbound_payment_method_line_ids.filtered("payment_account_id")[:1]
    return line.payment_account_id or journal.default_account_id


class RetailStorefrontPayoutLine(models.Model):
    _name = "retail.storefront.payout.line"
    _description = "Channel Payout Line"
    _order = "payout_id, problem, id"

    payout_id = fields.Many2one(
        "retail.storefront.payout", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="payout_id.company_id", store=True)
    currency_id = fields.Many2one(related="payout_id.currency_id")
    external_id = fields.Char("Transaction", readonly=True)
    kind = fields.Selection(KINDS, readonly=True)
    description = fields.Char(readonly=True)
    amount = fields.Monetary(readonly=True)
    fee = fields.Monetary(readonly=True)
    net = fields.Monetary(readonly=True)
    order_ref = fields.Char("Channel Order", readonly=True)
    sale_id = fields.Many2one("sale.order", "Order", check_company=True)
    problem = fields.Char(readonly=True)
