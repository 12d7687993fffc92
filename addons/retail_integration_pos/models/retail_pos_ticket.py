import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib.tickets import KINDS, sequence_number

MAX_SEQ = 2**31 - 1
STAGE_COLUMNS = (
    "backend_id, company_id, store_code, register_code, number, seq, "
    "business_date, kind, state, payload, message_id, received_at, "
    "correlation_id, attempts, create_uid, create_date, write_uid, write_date"
)


class RetailPosTicket(models.Model):
    """A ticket as the store's POS sent it, received once per key (backend,
    store, register, ticket number), and what its import made of it.

    Batches are staged here first (one INSERT … ON CONFLICT per batch), so
    that a repeated, overlapping or concurrent upload stages each ticket
    once; jobs then import the staged tickets in chunks."""

    _name = "retail.pos.ticket"
    _description = "Store POS Ticket"
    _order = "business_date desc, store_code, register_code, seq, id"
    _rec_name = "number"

    backend_id = fields.Many2one(
        "retail.backend", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    store_code = fields.Char("Store Code", required=True, readonly=True)
    register_code = fields.Char("Register Code", required=True, readonly=True)
    number = fields.Char("Ticket Number", required=True, readonly=True)
    seq = fields.Integer(
        "Sequence Number",
        readonly=True,
        help="The number the ticket number ends with: gaps are missing tickets.",
    )
    business_date = fields.Date(required=True, readonly=True, index=True)
    kind = fields.Selection(
        [(k, k.capitalize()) for k in KINDS], default="sale", readonly=True
    )
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("waiting", "Waiting for Original"),
            ("done", "Imported"),
            ("void", "Void"),
            ("failed", "Failed"),
        ],
        default="pending",
        required=True,
        readonly=True,
        index=True,
        help="Waiting: a return whose original ticket has not arrived yet.",
    )
    payload = fields.Json(readonly=True)
    payload_text = fields.Text("Ticket (JSON)", compute="_compute_payload_text")
    message_id = fields.Many2one(
        "retail.inbound.message", "Received In", readonly=True, ondelete="set null"
    )
    received_at = fields.Datetime(readonly=True)
    correlation_id = fields.Char(readonly=True)
    attempts = fields.Integer(readonly=True)
    store_id = fields.Many2one("retail.pos.store", readonly=True)
    register_id = fields.Many2one("retail.pos.register", readonly=True)
    pos_order_id = fields.Many2one("pos.order", "Order", readonly=True)
    error = fields.Text("Cause", readonly=True)
    exception_id = fields.Many2one("retail.sync.exception", readonly=True)

    _sql_constraints = [
        (
            "ticket_uniq",
            "unique(backend_id, store_code, register_code, number)",
            "This ticket was already received.",
        ),
    ]

    def init(self):
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS retail_pos_ticket_day_idx
               ON retail_pos_ticket (backend_id, store_code, register_code,
                                     business_date)"""
        )

    @api.depends("store_code", "register_code", "number")
    def _compute_display_name(self):
        for ticket in self:
            ticket.display_name = (
                f"{ticket.store_code}/{ticket.register_code}/{ticket.number}"
            )

    @api.depends("payload", "state")
    def _compute_payload_text(self):
        for ticket in self:
            if not ticket.payload and ticket.state in ("done", "void"):
                ticket.payload_text = _(
                    "Dropped after the backend's retention period: the order "
                    "keeps what Odoo made of the ticket."
                )
            else:
                ticket.payload_text = json.dumps(ticket.payload or {}, indent=2)

    # Retention -------------------------------------------------------------

    @api.model
    def _cron_drop_payloads(self):
        """Drop the JSON of the tickets imported (or void) longer ago than
        their backend keeps it; return how many. Only those: a pending,
        waiting or failed ticket still needs its JSON to be imported."""
        backends = self.env["retail.backend"].search(
            [("channel_type", "=", "pos"), ("pos_ticket_retention_days", ">", 0)]
        )
        self.flush_model(["payload", "state"])
        dropped = 0
        for backend in backends:
            self.env.cr.execute(
                """
                UPDATE retail_pos_ticket SET payload = NULL
                 WHERE backend_id = %s
                   AND state IN ('done', 'void')
                   AND payload IS NOT NULL
                   AND received_at < (now() at time zone 'UTC')
                                     - make_interval(days => %s)
                """,
                [backend.id, backend.pos_ticket_retention_days],
            )
            dropped += self.env.cr.rowcount
        self.invalidate_model(["payload", "payload_text"])
        return dropped

    # Staging ---------------------------------------------------------------

    @api.model
    def _stage(self, backend, entries, message=None):
        """Stage ``entries`` [(TicketKey, raw ticket)] of ``backend``; return
        the tickets staged now (not those already received).

        One INSERT … ON CONFLICT for the batch, in key order (two batches
        that overlap lock their rows in the same order: no deadlock). A
        ticket that failed before is taken again (a corrected resend);
        another is never staged twice, also when two uploads race: the
        unique key decides, and a twin committed meanwhile makes PostgreSQL
        refuse the statement (serialization failure), which retries the job.
        """
        unique = {}
        for key, raw in entries:
            unique.setdefault((key.store, key.register, key.number), (key, raw))
        if not unique:
            return self.browse()
        now = fields.Datetime.now()
        uid = self.env.uid
        correlation = self.env.context.get("retail_correlation_id")
        rows = []
        for (store, register, number), (key, raw) in sorted(unique.items()):
            seq = sequence_number(number)
            kind = raw.get("type") if raw.get("type") in KINDS else "sale"
            rows.append(
                (
                    backend.id,
                    backend.company_id.id,
                    store,
                    register,
                    number,
                    seq if seq is not None and seq <= MAX_SEQ else None,
                    key.business_date,
                    kind,
                    "pending",
                    json.dumps(raw),
                    message.id if message else None,
                    now,
                    correlation,
                    0,
                    uid,
                    now,
                    uid,
                    now,
                )
            )
        self.flush_model()
        cr = self.env.cr
        values = ", ".join(["%s"] * len(rows))
        # DO NOTHING: a row already there is not even locked (a lock would
        # hold up the import job that has it in its chunk).
        cr.execute(
            f"""INSERT INTO retail_pos_ticket ({STAGE_COLUMNS})
                VALUES {values}
                ON CONFLICT (backend_id, store_code, register_code, number)
                DO NOTHING
                RETURNING id""",  # noqa: S608 - only placeholders are formatted in
            rows,
            log_exceptions=False,
        )
        staged = [row[0] for row in cr.fetchall()]
        if len(staged) < len(rows):
            staged += self._stage_again(backend, rows)
        return self.browse(staged)

    def _stage_again(self, backend, rows):
        """The failed tickets among ``rows`` (sent again, perhaps corrected),
        staged again; their ids."""
        self.env.cr.execute(
            """SELECT id, store_code, register_code, number FROM retail_pos_ticket
               WHERE backend_id = %s AND state = 'failed'
                 AND (store_code, register_code, number) IN %s""",
            [backend.id, tuple((row[2], row[3], row[4]) for row in rows)],
        )
        failed = {(s, r, n): ticket_id for ticket_id, s, r, n in self.env.cr.fetchall()}
        again = []
        for row in rows:
            ticket_id = failed.get((row[2], row[3], row[4]))
            if not ticket_id:
                continue
            self.env.cr.execute(
                """UPDATE retail_pos_ticket
                   SET payload = %s, state = 'pending', kind = %s,
                       business_date = %s, seq = %s, message_id = %s,
                       received_at = %s, error = NULL, write_uid = %s,
                       write_date = %s
                   WHERE id = %s AND state = 'failed' RETURNING id""",
                [
                    row[9],
                    row[7],
                    row[6],
                    row[5],
                    row[10],
                    row[11],
                    row[16],
                    row[17],
                    ticket_id,
                ],
            )
            again += [r[0] for r in self.env.cr.fetchall()]
        self.invalidate_model()
        return again

    def _enqueue_import(self, backend):
        """Import jobs on the backend's channel, as its technical user, in
        chunks: sales before returns, so that a return finds its original."""
        backend._ensure_technical_user()
        tickets = self.sorted(
            lambda t: (t.kind in ("return", "exchange"), t.business_date, t.id)
        )
        size = backend.pos_chunk_size or 100
        jobs = 0
        for start in range(0, len(tickets), size):
            chunk = tickets[start : start + size]
            backend._with_delay(
                chunk.with_user(backend.technical_user_id),
                description=_(
                    "Import %(count)s POS tickets of %(backend)s",
                    count=len(chunk),
                    backend=backend.name,
                ),
            )._import_tickets()
            jobs += 1
        return jobs

    # Importing ---------------------------------------------------------------

    def _import_tickets(self):
        """Job: import the tickets of this chunk still to import. The rows
        are locked (SKIP LOCKED: another job importing them has them)."""
        if not self:
            return _("Nothing to import.")
        self.flush_model()
        self.env.cr.execute(
            """SELECT id FROM retail_pos_ticket
               WHERE id IN %s AND state IN ('pending', 'waiting')
               ORDER BY id FOR UPDATE SKIP LOCKED""",
            [tuple(self.ids)],
        )
        todo = self.browse([row[0] for row in self.env.cr.fetchall()])
        self._import_later(set(self.ids) - set(todo.ids))
        summaries = []
        for backend in todo.backend_id:
            summaries.append(
                self.env["retail.pos.importer"]._import(
                    backend, todo.filtered(lambda t, b=backend: t.backend_id == b)
                )
            )
        return " ".join(summaries) or _("Nothing to import: already done.")

    def _import_later(self, skipped_ids):
        """Tickets of this chunk to import that another transaction holds (a
        job importing them, or an upload staging them again): a job of their
        own, a few seconds later, imports those still to import then."""
        if not skipped_ids:
            return
        self.env.cr.execute(
            """SELECT id FROM retail_pos_ticket
               WHERE id IN %s AND state IN ('pending', 'waiting')""",
            [tuple(skipped_ids)],
        )
        held = self.browse([row[0] for row in self.env.cr.fetchall()])
        for backend in held.backend_id:
            tickets = held.filtered(lambda t, b=backend: t.backend_id == b)
            backend._with_delay(
                tickets.with_user(backend.technical_user_id),
                eta=5,
                description=_(
                    "Import %(count)s POS tickets of %(backend)s (held)",
                    count=len(tickets),
                    backend=backend.name,
                ),
            )._import_tickets()

    def _retail_exception_retry(self):
        """The inbox's Retry: every failed ticket of the same exception."""
        failed = self.search(
            [("exception_id", "in", self.exception_id.ids), ("state", "=", "failed")]
        ) | self.filtered(lambda t: t.state == "failed")
        if not failed:
            raise UserError(_("No failed ticket to retry."))
        # sudo: the inbox user retries; the job runs as the backend's technical user
        failed = failed.sudo()
        failed.write({"state": "pending"})
        for backend in failed.backend_id:
            failed.filtered(lambda t, b=backend: t.backend_id == b)._enqueue_import(
                backend
            )
        return True

    def action_retry(self):
        return self._retail_exception_retry()

    def action_open_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "pos.order",
            "res_id": self.pos_order_id.id,
            "views": [(False, "form")],
        }
