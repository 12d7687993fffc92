import hashlib

from odoo import _, api, fields, models
from odoo.exceptions import UserError

OPEN_STATES = ("new", "in_progress")


class RetailSyncException(models.Model):
    """A problem a person must act on, once, however often it repeats.

    Code reports problems with ``_report``: a repeat of an open problem with
    the same fingerprint bumps its count and last-seen time instead of adding a
    record. The failing record (an inbound message, a delivery...) is the
    *source*: if its model defines ``_retail_exception_retry``, the Retry
    button calls it, and when it later succeeds it calls ``_resolve_for`` to
    close its exceptions.
    """

    _name = "retail.sync.exception"
    _description = "Sync Exception"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "last_seen desc, id desc"

    name = fields.Char("Summary", required=True)
    backend_id = fields.Many2one("retail.backend", ondelete="cascade", index=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    kind = fields.Selection(
        [
            ("mapping", "Missing mapping"),
            ("data", "Invalid data"),
            ("connection", "Connection"),
            ("delivery", "Delivery"),
            ("configuration", "Configuration"),
            ("other", "Other"),
        ],
        required=True,
        default="other",
    )
    cause = fields.Text(required=True, help="What went wrong, in plain words.")
    detail = fields.Text("Technical Detail")
    res_model = fields.Char("Document Model", readonly=True)
    res_id = fields.Many2oneReference(
        "Document ID", model_field="res_model", readonly=True
    )
    document_name = fields.Char(compute="_compute_reference_names", string="Document")
    source_model = fields.Char(readonly=True)
    source_id = fields.Many2oneReference(
        "Source ID", model_field="source_model", readonly=True
    )
    source_name = fields.Char(compute="_compute_reference_names", string="Source")
    fingerprint = fields.Char(readonly=True, copy=False)
    first_seen = fields.Datetime(readonly=True, default=fields.Datetime.now)
    last_seen = fields.Datetime(readonly=True, default=fields.Datetime.now)
    occurrence_count = fields.Integer("Occurrences", readonly=True, default=1)
    state = fields.Selection(
        [
            ("new", "New"),
            ("in_progress", "In Progress"),
            ("resolved", "Resolved"),
            ("dismissed", "Dismissed"),
        ],
        required=True,
        default="new",
        tracking=True,
        index=True,
    )
    user_id = fields.Many2one("res.users", string="Responsible", tracking=True)
    retryable = fields.Boolean(compute="_compute_retryable")

    def init(self):
        # One open exception per fingerprint; resolved ones stay as history.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS retail_sync_exception_open_fingerprint
            ON retail_sync_exception (fingerprint) WHERE state IN ('new', 'in_progress')
            """
        )

    def _get_reference(self, model_field, id_field):
        self.ensure_one()
        model, res_id = self[model_field], self[id_field]
        if not model or not res_id or model not in self.env:
            return None
        return self.env[model].browse(res_id).exists()

    @api.depends("res_model", "res_id", "source_model", "source_id")
    def _compute_reference_names(self):
        for exc in self:
            document = exc._get_reference("res_model", "res_id")
            source = exc._get_reference("source_model", "source_id")
            # sudo: the name of the document an item points at, whatever its model: the
            # inbox user may not read it
            exc.document_name = document.sudo().display_name if document else False
            # sudo: as above, for the item's source
            exc.source_name = source.sudo().display_name if source else False

    @api.depends("source_model", "state")
    def _compute_retryable(self):
        for exc in self:
            model = exc.source_model
            exc.retryable = (
                exc.state in OPEN_STATES
                and model in self.env
                and hasattr(self.env[model], "_retail_exception_retry")
            )

    @api.model
    def _fingerprint(self, backend, kind, anchor, key):
        text = "|".join([str(backend.id or ""), kind, anchor, key])
        return hashlib.sha256(text.encode()).hexdigest()

    @api.model
    def _report(
        self,
        cause,
        *,
        name=None,
        backend=None,
        kind="other",
        detail=None,
        document=None,
        source=None,
        key=None,
        per_source=True,
        vals=None,
    ):
        """Record a problem, or count a repeat of an open one; return it.

        ``key`` says what makes two reports the same problem (by default the
        cause) for the same source (or document, or backend). With
        ``per_source=False`` the same key groups reports of many sources into
        one record (fifty orders failing on one unknown SKU are one problem);
        it keeps the first source. ``vals`` are extra fields for the record
        (those other modules add). Safe under concurrency: one atomic upsert
        on the open-fingerprint index.
        """
        backend = backend or self.env["retail.backend"]
        anchor_record = (source or document) if per_source else None
        anchor = f"{anchor_record._name},{anchor_record.id}" if anchor_record else ""
        fingerprint = self._fingerprint(backend, kind, anchor, key or cause)
        company = backend.company_id
        if not company and document and "company_id" in document._fields:
            company = document.company_id
        self.flush_model()
        self.env.cr.execute(
            """
            INSERT INTO retail_sync_exception
                (name, backend_id, company_id, kind, cause, detail, res_model, res_id,
                 source_model, source_id, fingerprint, first_seen, last_seen,
                 occurrence_count, state,
                 create_uid, create_date, write_uid, write_date)
            VALUES (%(name)s, %(backend)s, %(company)s, %(kind)s, %(cause)s, %(detail)s,
                    %(res_model)s, %(res_id)s, %(source_model)s, %(source_id)s,
                    %(fingerprint)s, %(now)s, %(now)s, 1, 'new', %(uid)s, %(now)s,
                    %(uid)s, %(now)s)
            ON CONFLICT (fingerprint) WHERE state IN ('new', 'in_progress')
            DO UPDATE SET occurrence_count = retail_sync_exception.occurrence_count + 1,
                          last_seen = EXCLUDED.last_seen,
                          cause = EXCLUDED.cause,
                          detail = EXCLUDED.detail,
                          write_uid = EXCLUDED.write_uid,
                          write_date = EXCLUDED.write_date
            RETURNING id
            """,
            {
                "name": (name or cause)[:200],
                "backend": backend.id or None,
                "company": (company or self.env.company).id,
                "kind": kind,
                "cause": cause,
                "detail": detail,
                "res_model": document._name if document else None,
                "res_id": document.id if document else None,
                "source_model": source._name if source else None,
                "source_id": source.id if source else None,
                "fingerprint": fingerprint,
                "now": fields.Datetime.now(),
                "uid": self.env.uid,
            },
        )
        exception = self.browse(self.env.cr.fetchone()[0])
        exception.invalidate_recordset()
        if vals:
            exception.write(vals)
        return exception

    @api.model
    def _resolve_for(self, source, message=None):
        """Close the open exceptions of ``source`` (its retry succeeded)."""
        # sudo: closing every item of a source, from whoever's retry succeeded
        exceptions = self.sudo().search(
            [
                ("source_model", "=", source._name),
                ("source_id", "in", source.ids),
                ("state", "in", OPEN_STATES),
            ]
        )
        if exceptions:
            exceptions.write({"state": "resolved"})
            for exc in exceptions:
                exc.message_post(body=message or _("Resolved: the source succeeded."))
        return exceptions

    def _open_record_action(self, record):
        if not record:
            raise UserError(_("The record this exception refers to no longer exists."))
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "views": [(False, "form")],
            "target": "current",
        }

    def action_open_document(self):
        return self._open_record_action(self._get_reference("res_model", "res_id"))

    def action_open_source(self):
        return self._open_record_action(
            self._get_reference("source_model", "source_id")
        )

    def action_take(self):
        self.write({"state": "in_progress", "user_id": self.env.uid})
        return True

    def action_retry(self):
        for exc in self:
            if not exc.retryable:
                raise UserError(
                    _("%(name)s cannot be retried from here.", name=exc.name)
                )
            exc._get_reference("source_model", "source_id")._retail_exception_retry()
            exc.message_post(body=_("Retry requested."))
        self.filtered(lambda e: e.state == "new").write({"state": "in_progress"})
        return True

    def action_resolve(self):
        self.write({"state": "resolved"})
        return True

    def action_dismiss(self):
        self.write({"state": "dismissed"})
        return True

    def action_reopen(self):
        for exc in self:
            twin = self.search_count(
                [("fingerprint", "=", exc.fingerprint), ("state", "in", OPEN_STATES)]
            )
            if exc.fingerprint and twin:
                raise UserError(
                    _("The same problem is already open in a newer exception.")
                )
        self.write({"state": "new"})
        return True
