from odoo import _, api, fields, models
from odoo.tools.sql import create_index

from odoo.addons.queue_job.exception import RetryableJobError


class ExternalRefConflict(RetryableJobError):
    """Another transaction bound the same external id first: retry to see it."""


class RetailExternalRef(models.Model):
    """Which Odoo record an id of a backend stands for, and back.

    One reference per (backend, model, external id), a unique index; a record
    may have several (two channel variants sold as one product), found through
    a second index. Each lookup is one index scan.
    """

    _name = "retail.external.ref"
    _description = "External Reference"
    _rec_name = "external_id"
    _order = "id desc"

    backend_id = fields.Many2one("retail.backend", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    res_model = fields.Char("Model", required=True)
    # 0: the channel deleted the object before Odoo imported it (see
    # _bind_deleted).
    res_id = fields.Many2oneReference(
        "Record ID", model_field="res_model", required=True
    )
    external_id = fields.Char("External ID", required=True)
    sync_date = fields.Datetime("Last Synchronised", default=fields.Datetime.now)

    _sql_constraints = [
        (
            "external_uniq",
            "unique(backend_id, res_model, external_id)",
            "This external id is already bound to a record of this backend.",
        ),
    ]

    def init(self):
        create_index(
            self.env.cr,
            "retail_external_ref_record_index",
            self._table,
            ["backend_id", "res_model", "res_id"],
        )

    @api.depends("res_model", "res_id", "external_id")
    def _compute_display_name(self):
        for ref in self:
            target = f"{ref.res_model},{ref.res_id}" if ref.res_id else _("deleted")
            ref.display_name = f"{ref.external_id} → {target}"

    @api.model
    def _find_record(self, backend, model, external_id):
        """The record of ``model`` bound to ``external_id`` (empty if none, or
        if it is bound to none: see ``_bind_deleted``)."""
        ref = self._ref(backend, model, external_id)
        return self.env[model].browse(ref.res_id or ())

    @api.model
    def _ref(self, backend, model, external_id):
        # sudo: the external ids are the connector's index: found whatever the caller
        # may read of them (a salesperson opening an order)
        return self.sudo().search(
            [
                ("backend_id", "=", backend.id),
                ("res_model", "=", model),
                ("external_id", "=", str(external_id)),
            ],
            limit=1,
        )

    @api.model
    def _deleted_ref(self, backend, model, external_id):
        """The reference saying the channel deleted ``external_id`` before it
        was imported (empty if it did not)."""
        ref = self._ref(backend, model, external_id)
        return ref if ref and not ref.res_id else self.browse()

    @api.model
    def _external_id(self, backend, record):
        """The external id ``record`` has in ``backend`` (False if none; the
        first bound if it has several)."""
        # sudo: as above: a record's external id, for whoever shows or sends the record
        ref = self.sudo().search(
            [
                ("backend_id", "=", backend.id),
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
            ],
            order="id",
            limit=1,
        )
        return ref.external_id or False

    @api.model
    def _lock_external_id(self, backend, model, external_id):
        """Serialise work on one external id across transactions and workers.

        Taken before looking up and creating the record an external id stands
        for; a second job on the same id is retried shortly instead of creating
        a twin. The lock ends with the transaction.
        """
        key = f"retail.external.ref:{backend.id}:{model}:{external_id}"
        self.env.cr.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [key]
        )
        if not self.env.cr.fetchone()[0]:
            raise ExternalRefConflict(
                _(
                    "%(model)s %(id)s is being imported by another job.",
                    model=model,
                    id=external_id,
                ),
                seconds=2,
                # Waiting for another transaction spends no attempt: a batch
                # of another drain may hold the lock for seconds, again and
                # again for a customer many orders share.
                ignore_retry=True,
            )

    @api.model
    def _bind(self, backend, record, external_id):
        """Bind ``record`` to ``external_id`` in ``backend``; return the reference.

        Idempotent. If another transaction bound the same external id to another
        record, raise ``ExternalRefConflict`` (retryable): nothing is lost, the
        retry finds the winner's record. A conflict with a transaction that
        committed after ours began surfaces as PostgreSQL's serialization
        failure, which Odoo and queue_job retry as well.
        """
        record.ensure_one()
        external_id = str(external_id)
        ref = self._insert_ref(backend, record._name, record.id, external_id)
        if ref:
            return ref
        ref = self._ref(backend, record._name, external_id)
        if ref.res_id == record.id:
            ref.sync_date = fields.Datetime.now()
            return ref.with_env(self.env)
        raise ExternalRefConflict(
            _(
                "%(model)s %(id)s was bound to another record meanwhile.",
                model=record._name,
                id=external_id,
            ),
            seconds=2,
        )

    @api.model
    def _bind_deleted(self, backend, model, external_id):
        """Bind ``external_id`` to no record of ``model``: the channel deleted
        it before Odoo imported it. The reference has the key a real binding
        would have, so a concurrent import of the same id conflicts with it on
        the unique index (and is retried) instead of missing it; idempotent."""
        return self._insert_ref(backend, model, 0, str(external_id)) or self._ref(
            backend, model, external_id
        )

    @api.model
    def _insert_ref(self, backend, model, res_id, external_id):
        """INSERT a reference unless its key exists; the new one, or empty."""
        self.flush_model()
        self.env.cr.execute(
            """
            INSERT INTO retail_external_ref
                (backend_id, company_id, res_model, res_id, external_id, sync_date,
                 create_uid, create_date, write_uid, write_date)
            VALUES (%(backend)s, %(company)s, %(model)s, %(res_id)s, %(external_id)s,
                    now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC',
                    %(uid)s, now() at time zone 'UTC')
            ON CONFLICT DO NOTHING
            RETURNING id
            """,
            {
                "backend": backend.id,
                "company": backend.company_id.id,
                "model": model,
                "res_id": res_id,
                "external_id": external_id,
                "uid": self.env.uid,
            },
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0] if row else ())
