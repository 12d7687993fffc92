import logging
import time
from collections import defaultdict
from datetime import datetime
from datetime import time as dtime

import psycopg2

from odoo import _, api, fields, models
from odoo.tools import float_round

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.retail_integration.lib.parsing import MappingError

from ..lib.tickets import CENT, parse_ticket

_logger = logging.getLogger(__name__)

LOCK_NAMESPACE = 72_410  # pg_advisory_xact_lock(namespace, register id)
# Raised in a job: the database's or the job's, never the ticket's.
NOT_THE_TICKETS = (psycopg2.OperationalError, RetryableJobError)


class TicketError(Exception):
    """A ticket cannot be imported: ``cause`` in plain words; tickets
    failing on the same ``key`` share one inbox item."""

    def __init__(self, cause, key, kind="data"):
        super().__init__(cause)
        self.cause = cause
        self.key = key
        self.kind = kind


class _Wait(Exception):
    """A return whose original ticket has not arrived yet."""


class RetailPosImporter(models.AbstractModel):
    """Staged tickets into Odoo's point of sale: a pos.order per ticket in
    the session of its register's business day, created in batches.

    Everything a chunk needs is read once (stores, registers, payment
    methods, products, original tickets); each ticket is mapped on its own,
    a bad one filed in the exceptions inbox; the good ones are created in
    one ``create`` (a ticket that still fails there is isolated in a
    savepoint of its own)."""

    _name = "retail.pos.importer"
    _description = "Store POS Ticket Importer"

    @api.model
    def _import(self, backend, tickets):
        started = time.monotonic()
        ctx = _Chunk(self.env, backend, tickets)
        prepared, voids, waiting = [], self.env["retail.pos.ticket"], []
        for ticket in tickets:
            try:
                parsed = parse_ticket(ticket.payload)
            except MappingError as err:
                ctx.fail(
                    ticket,
                    TicketError(
                        _(
                            "Ticket %(ticket)s at store %(store)s cannot be read: "
                            "%(error)s",
                            ticket=ticket.display_name,
                            store=ctx.store_label(ticket.store_code),
                            error=err,
                        ),
                        f"read:{ticket.id}",
                    ),
                )
                continue
            ctx.parsed[ticket.id] = parsed
        ctx.load(list(ctx.parsed.values()))
        ctx.open_days({p.key for p in ctx.parsed.values()})
        for ticket in tickets.filtered(lambda t: t.id in ctx.parsed):
            parsed = ctx.parsed[ticket.id]
            try:
                if parsed.kind == "void":
                    ctx.locate(ticket, parsed)
                    voids |= ticket
                    continue
                prepared.append((ticket, self._order_vals(ctx, ticket, parsed)))
            except _Wait:
                waiting.append(ticket)
            except TicketError as err:
                ctx.fail(ticket, err)
        created = self._create_orders(ctx, prepared)
        ctx.finish(created, voids, waiting)
        self._after_import(backend, ctx)
        summary = _(
            "%(done)s tickets imported, %(void)s void, %(failed)s failed, "
            "%(waiting)s waiting for their original, in %(ms)s ms.",
            done=len(created),
            void=len(voids),
            failed=len(ctx.failed),
            waiting=len(waiting),
            ms=int((time.monotonic() - started) * 1000),
        )
        _logger.info("POS backend %s: %s", backend.code, summary)
        return summary

    # Mapping -----------------------------------------------------------------

    def _order_vals(self, ctx, ticket, parsed):
        register = ctx.locate(ticket, parsed)
        store_label = register.store_id.name
        currency = register.pos_config_id.currency_id
        if parsed.currency and parsed.currency != currency.name:
            raise TicketError(
                _(
                    "Ticket %(ticket)s at store %(store)s is in %(ticket_currency)s, "
                    "but its register's point of sale books in %(currency)s: it is "
                    "not imported. Check the till's currency.",
                    ticket=ticket.display_name,
                    store=store_label,
                    ticket_currency=parsed.currency,
                    currency=currency.name,
                ),
                f"currency:{ticket.id}",
            )
        originals = None
        review = False
        if any(line.quantity < 0 for line in parsed.lines):
            originals, review = ctx.original_lines(ticket, parsed)
        lines, total, tax = [], 0.0, 0.0
        # what this ticket's lines give back, counted in the upload once the
        # whole ticket maps (ctx.returned)
        consumed = defaultdict(float)
        for index, line in enumerate(parsed.lines):
            product = ctx.product(line, store_label)
            taxes = ctx.taxes(product)
            qty = float(line.quantity)
            price = float(line.unit_price)
            discount = float(line.discount)
            excluded, included = ctx.amounts(taxes, product, price, qty, discount)
            vals = {
                "name": f"{ticket.display_name}-{index + 1}",
                "product_id": product.id,
                "full_product_name": line.name or ctx.product_name(product),
                "qty": qty,
                "price_unit": price,
                "discount": discount,
                "tax_ids": [(6, 0, taxes.ids)],
                "price_subtotal": excluded,
                "price_subtotal_incl": included,
            }
            if qty < 0 and originals is not None:
                vals["refunded_orderline_id"] = ctx.refunded_line(
                    ticket, parsed, originals, line, product, qty, consumed
                )
            lines.append((0, 0, vals))
            total += included
            tax += included - excluded
        total = ctx.round(total)
        paid = float(parsed.paid)
        if abs(paid - total) >= float(CENT):
            raise TicketError(
                _(
                    "Ticket %(ticket)s at store %(store)s: its payments "
                    "(%(paid)s) differ from its total in Odoo (%(total)s), computed "
                    "from its products' prices and taxes.",
                    ticket=ticket.display_name,
                    store=store_label,
                    paid=f"{paid:.2f}",
                    total=f"{total:.2f}",
                ),
                f"total:{ticket.id}",
            )
        moment = parsed.timestamp or datetime.combine(
            parsed.key.business_date, dtime(12, 0)
        )
        payments = []
        for payment in parsed.payments:
            method = ctx.payment_method(payment.method, register, store_label)
            payments.append(
                (
                    0,
                    0,
                    {
                        "payment_method_id": method.id,
                        "amount": float(payment.amount),
                        "payment_date": moment,
                        "transaction_id": payment.reference or False,
                    },
                )
            )
        if parsed.change:
            cash = register._cash_method()
            payments.append(
                (
                    0,
                    0,
                    {
                        "payment_method_id": cash.id,
                        "amount": -float(parsed.change),
                        "payment_date": moment,
                        "is_change": True,
                    },
                )
            )
        for line_id, qty in consumed.items():
            ctx.returned[line_id] += qty
        return {
            "session_id": ctx.session(register, parsed.key.business_date, ticket).id,
            "name": ticket.display_name,
            "pos_reference": parsed.key.number,
            "date_order": moment,
            "partner_id": ctx.partner(parsed.customer),
            "state": "paid",
            "amount_tax": ctx.round(tax),
            "amount_total": total,
            "amount_paid": paid,
            "amount_return": float(parsed.change),
            "lines": lines,
            "payment_ids": payments,
            "retail_backend_id": ctx.backend.id,
            "retail_ticket_id": ticket.id,
            "retail_cashier": parsed.cashier or False,
            "retail_needs_review": review,
            "retail_correlation_id": ticket.correlation_id or False,
        }

    # Creating ----------------------------------------------------------------

    def _create_orders(self, ctx, prepared):
        """The orders of ``prepared`` [(ticket, vals)], in one create; if it
        fails, one savepoint per ticket isolates the bad one."""
        if not prepared:
            return []
        orders = self.env["pos.order"].with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True
        )
        try:
            with self.env.cr.savepoint():
                created = orders.create([vals for _ticket, vals in prepared])
                created.flush_recordset()
            return list(zip([t for t, _v in prepared], created, strict=True))
        except NOT_THE_TICKETS:
            raise
        except Exception:  # noqa: BLE001 - found out ticket by ticket below
            _logger.info("Batch create failed; importing ticket by ticket")
        done = []
        for ticket, vals in prepared:
            try:
                with self.env.cr.savepoint():
                    order = orders.create([vals])
                    order.flush_recordset()
                done.append((ticket, order))
            except NOT_THE_TICKETS:
                raise
            except Exception as err:  # noqa: BLE001 - the ticket's, filed in the inbox
                ctx.fail(
                    ticket,
                    TicketError(
                        _(
                            "Ticket %(ticket)s at store %(store)s was refused by "
                            "Odoo: %(error)s",
                            ticket=ticket.display_name,
                            store=ctx.store_label(ticket.store_code),
                            error=err.args[0] if err.args else err,
                        ),
                        f"create:{ticket.id}",
                    ),
                )
        return done

    @api.model
    def _open_days(self, backend, keys):
        """Open the sessions and store days the tickets of ``keys``
        (TicketKey) need, before the import jobs run: the jobs, running side
        by side, then find them and never race to open them."""
        _Chunk(self.env, backend, self.env["retail.pos.ticket"]).open_days(keys)
        days = {(k.store, k.business_date) for k in keys}
        self.env["retail.pos.store.day"]._touch(backend, days)

    def _after_import(self, backend, ctx):
        """The store days of the tickets, and a re-check of their Z reports."""
        days = {(t.store_code, t.business_date) for t in ctx.tickets}
        self.env["retail.pos.store.day"]._touch(backend, days)
        registers = {
            (t.store_code, t.register_code, t.business_date) for t in ctx.tickets
        }
        self.env["retail.pos.zreport"]._recheck_later(backend, registers)
        if ctx.imported_numbers:
            self._import_waiting_returns(backend, ctx.imported_numbers)

    def _import_waiting_returns(self, backend, numbers):
        """Returns that waited for a ticket imported now: imported now too."""
        waiting = self.env["retail.pos.ticket"].search(
            [("backend_id", "=", backend.id), ("state", "=", "waiting")]
        )
        ready = waiting.filtered(
            lambda t: ((t.payload or {}).get("original") or {}).get("number") in numbers
        )
        if ready:
            ready._import_tickets()


class _Chunk:
    """What one chunk's import reads once, and what it found."""

    def __init__(self, env, backend, tickets):
        self.env = env
        self.backend = backend
        self.tickets = tickets
        self.parsed = {}
        self.failed = []
        self.imported_numbers = set()
        self.currency = backend.company_id.currency_id
        self.stores = {s.code: s for s in backend.pos_store_ids}
        self.registers = {
            (r.store_id.code, r.code): r for r in backend.pos_store_ids.register_ids
        }
        self.methods = {m.code: m for m in backend.pos_payment_map_ids}
        self.sessions = {}
        self._amounts = {}
        self._taxes = {}
        self._names = {}
        self.products_by_sku = {}
        self.products_by_barcode = {}
        self.originals = {}
        self.now = fields.Datetime.now()
        self.located = {}
        self.to_review = {}
        # original line id -> quantity given back by this upload's tickets
        # mapped so far (their refunds are not in refunded_qty yet)
        self.returned = defaultdict(float)

    # Reading once ------------------------------------------------------------

    def load(self, parsed):
        skus = {line.sku for t in parsed for line in t.lines if line.sku}
        barcodes = {line.barcode for t in parsed for line in t.lines if line.barcode}
        Product = self.env["product.product"].with_company(self.backend.company_id)
        company_domain = [("company_id", "in", (False, self.backend.company_id.id))]
        if skus:
            for product in Product.search(
                [("default_code", "in", list(skus)), *company_domain]
            ):
                self.products_by_sku.setdefault(product.default_code, product)
        if barcodes:
            for product in Product.search(
                [("barcode", "in", list(barcodes)), *company_domain]
            ):
                self.products_by_barcode.setdefault(product.barcode, product)
        numbers = {t.original["number"] for t in parsed if t.original}
        if numbers:
            for original in self.env["retail.pos.ticket"].search(
                [
                    ("backend_id", "=", self.backend.id),
                    ("number", "in", list(numbers)),
                    ("state", "=", "done"),
                ]
            ):
                self.originals.setdefault(original.number, []).append(original)

    # Per ticket --------------------------------------------------------------

    def store_label(self, code):
        store = self.stores.get(code)
        return store.name if store else code

    def locate(self, ticket, parsed):
        key = parsed.key
        store = self.stores.get(key.store)
        if not store:
            raise TicketError(
                _(
                    "Store %(store)s is not set up on backend %(backend)s: add it "
                    "under Stores.",
                    store=key.store,
                    backend=self.backend.name,
                ),
                f"store:{key.store}",
                "mapping",
            )
        register = self.registers.get((key.store, key.register))
        if not register:
            raise TicketError(
                _(
                    "Register %(register)s is unknown at store %(store)s: add it "
                    "to the store's registers.",
                    register=key.register,
                    store=store.name,
                ),
                f"register:{key.store}:{key.register}",
                "mapping",
            )
        if not register.pos_config_id:
            raise TicketError(
                _(
                    "Register %(register)s at store %(store)s has no point of sale: "
                    "create it with Create Points of Sale on the backend.",
                    register=key.register,
                    store=store.name,
                ),
                f"config:{register.id}",
                "configuration",
            )
        self.located[ticket.id] = (store, register)
        return register

    def open_days(self, keys):
        """The sessions of the registers' days of ``keys`` (TicketKey), opened
        in one order (register, date): two jobs never wait for each other's
        locks in turn."""
        pairs = set()
        for key in keys:
            register = self.registers.get((key.store, key.register))
            if register and register.pos_config_id:
                pairs.add((register, key.business_date))
        for register, business_date in sorted(pairs, key=lambda p: (p[0].id, p[1])):
            self._session(register, business_date)

    def session(self, register, business_date, ticket):
        """The session of ``register``'s business day: found, or opened.

        An advisory lock per register serialises the opening; a session
        another job opened after this transaction began is not visible to it:
        its INSERT then fails on the unique index, and the job is retried."""
        session = self._session(register, business_date)
        if session.state == "closed" and self.backend.pos_late_tickets == "rescue":
            return self._rescue_session(register, business_date)
        if session.state == "closed":
            raise TicketError(
                _(
                    "Ticket %(ticket)s at store %(store)s arrived after the business "
                    "day %(date)s of register %(register)s was posted: record it "
                    "in an open day by hand.",
                    ticket=ticket.display_name,
                    store=register.store_id.name,
                    date=business_date,
                    register=register.code,
                ),
                f"late:{ticket.id}",
            )
        return session

    def _session(self, register, business_date):
        key = (register.id, business_date)
        if key in self.sessions:
            return self.sessions[key]
        Session = self.env["pos.session"]
        domain = [
            ("retail_register_id", "=", register.id),
            ("retail_business_date", "=", business_date),
            ("retail_rescue", "=", False),
        ]
        # Usually open already (the upload's job opened it): no lock then,
        # or import jobs of the same register would wait for each other.
        session = Session.search(domain, limit=1)
        if not session:
            cr = self.env.cr
            cr.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, register.id]
            )
            session = Session.search(domain, limit=1)
            if not session:
                try:
                    with cr.savepoint():
                        session = Session.create(
                            {
                                "config_id": register.pos_config_id.id,
                                "retail_register_id": register.id,
                                "retail_business_date": business_date,
                            }
                        )
                        # The store's day is under way; its stock leaves the
                        # store at closing: one picking a day.
                        session.write(
                            {"state": "opened", "update_stock_at_closing": True}
                        )
                        session.flush_recordset()
                except psycopg2.IntegrityError as err:
                    raise RetryableJobError(
                        _("Another job opened the same business day; retrying."),
                        seconds=1,
                    ) from err
        self.sessions[key] = session
        return session

    def _rescue_session(self, register, business_date):
        """The open rescue session of ``register``'s posted day: found, or
        opened (under the register's lock, as a day session is)."""
        key = (register.id, business_date, "rescue")
        if key in self.sessions:
            return self.sessions[key]
        Session = self.env["pos.session"]
        domain = [
            ("retail_register_id", "=", register.id),
            ("retail_business_date", "=", business_date),
            ("retail_rescue", "=", True),
            ("state", "!=", "closed"),
        ]
        self.env.cr.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, register.id]
        )
        session = Session.search(domain, limit=1)
        if not session:
            try:
                with self.env.cr.savepoint():
                    session = Session.create(
                        {
                            "config_id": register.pos_config_id.id,
                            "retail_register_id": register.id,
                            "retail_business_date": business_date,
                            "retail_rescue": True,
                        }
                    )
                    session.write({"state": "opened", "update_stock_at_closing": True})
                    session.flush_recordset()
            except psycopg2.IntegrityError as err:
                raise RetryableJobError(
                    _("Another job opened the same rescue session; retrying."),
                    seconds=1,
                ) from err
        # A late ticket joins it: it waits another quiet period before posting.
        session.write({"retail_rescue": True})
        self.sessions[key] = session
        return session

    def product(self, line, store_label):
        product = None
        if line.sku:
            product = self.products_by_sku.get(line.sku)
        if not product and line.barcode:
            product = self.products_by_barcode.get(line.barcode)
        if product:
            return product
        if line.sku:
            raise TicketError(
                _(
                    "SKU %(sku)s unknown at store %(store)s.",
                    sku=line.sku,
                    store=store_label,
                ),
                f"sku:{line.sku}:{store_label}",
                "mapping",
            )
        raise TicketError(
            _(
                "Barcode %(barcode)s unknown at store %(store)s.",
                barcode=line.barcode,
                store=store_label,
            ),
            f"barcode:{line.barcode}:{store_label}",
            "mapping",
        )

    def product_name(self, product):
        if product.id not in self._names:
            self._names[product.id] = product.display_name
        return self._names[product.id]

    def taxes(self, product):
        if product.id not in self._taxes:
            company = self.backend.company_id
            self._taxes[product.id] = product.taxes_id.filtered(
                lambda t: t.company_id == company
            )
        return self._taxes[product.id]

    def amounts(self, taxes, product, price, qty, discount):
        """(tax excluded, tax included) of a line; computed once per kind."""
        key = (tuple(taxes.ids), product.id, price, qty, discount)
        if key not in self._amounts:
            unit = price * (1 - discount / 100.0)
            if taxes:
                res = taxes.compute_all(unit, self.currency, qty, product=product)
                self._amounts[key] = (res["total_excluded"], res["total_included"])
            else:
                amount = self.round(unit * qty)
                self._amounts[key] = (amount, amount)
        return self._amounts[key]

    def round(self, amount):
        return float_round(amount, precision_rounding=self.currency.rounding)

    def payment_method(self, code, register, store_label):
        mapping = self.methods.get(code)
        method = mapping._method_for(register) if mapping else None
        if not method:
            raise TicketError(
                _(
                    "Payment method %(method)s of store %(store)s is not mapped: "
                    "map it on the backend's Payment Methods.",
                    method=code,
                    store=store_label,
                ),
                f"method:{code}",
                "mapping",
            )
        if method not in register.pos_config_id.payment_method_ids:
            raise TicketError(
                _(
                    "Payment method %(method)s is not available in the point of "
                    "sale %(config)s of register %(register)s.",
                    method=method.name,
                    config=register.pos_config_id.name,
                    register=register.code,
                ),
                f"method:{code}:{register.id}",
                "configuration",
            )
        return method

    def partner(self, customer):
        if not customer:
            return False
        email = customer.get("email")
        if isinstance(email, str) and email:
            partner = self.env["retail.importer"]._contact_by_email(
                email, self.backend.company_id
            )
            return partner.id or False
        return False

    # Returns -----------------------------------------------------------------

    def original_lines(self, ticket, parsed):
        """(the original order's lines, needs review) of a return."""
        policy = self.backend.pos_unreferenced_returns
        store = self.stores[parsed.key.store]
        if parsed.original:
            found = self.originals.get(parsed.original["number"], [])
            wanted_store = parsed.original.get("store") or parsed.key.store
            wanted_register = parsed.original.get("register")
            found = [
                t
                for t in found
                if t.store_code == wanted_store
                and (not wanted_register or t.register_code == wanted_register)
            ]
            if found:
                return found[0].pos_order_id.lines, False
            waited = (self.now - (ticket.received_at or self.now)).total_seconds()
            if waited < self.backend.pos_return_wait_hours * 3600:
                raise _Wait()
            reason = _(
                "its original ticket %(original)s never arrived",
                original=parsed.original["number"],
            )
        else:
            reason = _("it names no original ticket (receipt lost)")
        if policy == "refuse":
            raise TicketError(
                _(
                    "Return %(ticket)s at store %(store)s was refused: %(reason)s, "
                    "and the backend refuses returns without receipt.",
                    ticket=ticket.display_name,
                    store=store.name,
                    reason=reason,
                ),
                f"unreferenced:{ticket.id}",
            )
        self.to_review[ticket.id] = reason
        return None, True

    def refunded_line(self, ticket, parsed, originals, line, product, qty, consumed):
        candidates = originals.filtered(lambda ol: ol.product_id == product)
        if line.original_line is not None:
            candidates = originals[line.original_line : line.original_line + 1]
        for original in candidates:
            left = (
                original.qty
                - original.refunded_qty
                - self.returned[original.id]
                - consumed[original.id]
            )
            if left >= -qty - 1e-6 and original.product_id == product:
                consumed[original.id] += -qty
                return original.id
        raise TicketError(
            _(
                "Return %(ticket)s at store %(store)s gives back %(qty)s × "
                "%(product)s, more than ticket %(original)s sold and was not "
                "returned yet.",
                ticket=ticket.display_name,
                store=self.stores[parsed.key.store].name,
                qty=-qty,
                product=product.display_name,
                original=parsed.original["number"],
            ),
            f"overreturn:{ticket.id}",
        )

    # Outcome -----------------------------------------------------------------

    def fail(self, ticket, err):
        self.failed.append((ticket, err))

    def finish(self, created, voids, waiting):
        cr = self.env.cr
        Ticket = self.env["retail.pos.ticket"]
        Ticket.flush_model()
        located = self.located
        if created:
            rows = []
            for ticket, order in created:
                store, register = located[ticket.id]
                rows.append((ticket.id, order.id, store.id, register.id))
                self.imported_numbers.add(ticket.number)
            values = ", ".join(["%s"] * len(rows))
            cr.execute(
                f"""UPDATE retail_pos_ticket t
                    SET state = 'done', pos_order_id = v.order_id,
                        store_id = v.store_id, register_id = v.register_id,
                        error = NULL, attempts = t.attempts + 1,
                        write_date = now() at time zone 'UTC'
                    FROM (VALUES {values}) AS v(id, order_id, store_id, register_id)
                    WHERE t.id = v.id""",  # noqa: S608 - placeholders only
                rows,
            )
        if voids:
            cr.execute(
                """UPDATE retail_pos_ticket SET state = 'void', error = NULL,
                   attempts = attempts + 1 WHERE id IN %s""",
                [tuple(voids.ids)],
            )
        if waiting:
            cr.execute(
                """UPDATE retail_pos_ticket SET state = 'waiting',
                   attempts = attempts + 1 WHERE id IN %s""",
                [tuple(t.id for t in waiting)],
            )
        Ticket.invalidate_model()
        succeeded = Ticket.browse([t.id for t, _o in created] + voids.ids).filtered(
            "exception_id"
        )
        if succeeded:
            # sudo: the items of tickets that succeeded on retry are closed for them
            self.env["retail.sync.exception"].sudo()._resolve_for(
                succeeded, _("Resolved: the ticket was imported.")
            )
            succeeded.write({"exception_id": False})
        self._file_failures()
        self._file_reviews(created)

    def _file_failures(self):
        # sudo: inbox items are filed on the backend's behalf
        inbox = self.env["retail.sync.exception"].sudo()
        for ticket, err in self.failed:
            exception = inbox._report(
                err.cause,
                name=_("POS ticket not imported"),
                backend=self.backend,
                kind=err.kind,
                source=ticket,
                key=f"pos:{err.key}",
                per_source=False,
            )
            ticket.write(
                {
                    "state": "failed",
                    "error": err.cause,
                    "exception_id": exception.id,
                    "attempts": ticket.attempts + 1,
                }
            )

    def _file_reviews(self, created):
        reasons = self.to_review
        for ticket, order in created:
            if ticket.id in reasons:
                # sudo: inbox items are filed on the backend's behalf
                self.env["retail.sync.exception"].sudo()._report(
                    _(
                        "Return %(ticket)s at store %(store)s was imported without "
                        "a link to a sale: %(reason)s. Check it, then mark the "
                        "order reviewed.",
                        ticket=ticket.display_name,
                        store=self.store_label(ticket.store_code),
                        reason=reasons[ticket.id],
                    ),
                    name=_("POS return to review"),
                    backend=self.backend,
                    kind="data",
                    document=order,
                    source=ticket,
                    key="pos:review",
                )
