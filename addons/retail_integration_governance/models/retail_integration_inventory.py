from odoo import _, api, fields, models, tools

from ..lib import inventory
from .retail_governance_mixin import DATA_CLASSES


class RetailIntegrationInventory(models.Model):
    """Every integration of the database in one list: connector backends,
    webhook endpoints, outbox subscriptions, and what other modules register
    (lib/inventory.py). Read only: each row is edited on its record."""

    _name = "retail.integration.inventory"
    _description = "Integration Inventory"
    _auto = False
    _order = "review_overdue desc, unused desc, company_id, kind, name"
    _rec_name = "name"

    kind = fields.Selection(selection="_kind_selection", readonly=True)
    res_model = fields.Char("Model", readonly=True)
    res_id = fields.Many2oneReference("Record", model_field="res_model", readonly=True)
    name = fields.Char(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    backend_id = fields.Many2one("retail.backend", readonly=True)
    owner_id = fields.Many2one("res.users", string="Owner", readonly=True)
    purpose = fields.Text(readonly=True)
    data_classification = fields.Selection(DATA_CLASSES, readonly=True)
    scopes = fields.Char(
        readonly=True,
        help="What it may carry: a backend's channel and provider, an endpoint's "
        "accepted topics (* all), a subscription's event types, an API "
        "client's scopes.",
    )
    last_used_at = fields.Datetime("Last Use", readonly=True)
    review_date = fields.Date("Next Review", readonly=True)
    sla = fields.Char(
        "SLA", readonly=True, help="From the monitoring module's flows, when installed."
    )
    live = fields.Boolean(readonly=True, help="Exchanging data now.")
    create_date = fields.Datetime(readonly=True)
    unused = fields.Boolean(
        readonly=True,
        help="No traffic for the number of days of the system parameter "
        "retail_integration_governance.unused_days (90 by default).",
    )
    review_overdue = fields.Boolean(readonly=True)

    @api.model
    def _kind_selection(self):
        return [
            (source.key, str(source.label)) for source in inventory.SOURCES.values()
        ]

    @property
    def _table_query(self):
        return self._inventory_query()

    @tools.ormcache()
    def _inventory_query(self):
        return inventory.table_query(self.env)

    def action_open_record(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "views": [(False, "form")],
        }

    @api.model
    def _cron_review_activities(self):
        """An activity for the owner of each integration whose review date has
        passed: once per review date (a new date, a new activity). An
        endpoint or subscription without a date of its own is reviewed with
        its backend, whose activity covers it."""
        self.env.flush_all()
        self.invalidate_model()  # rows of other tables: read them afresh
        rows = self.search([("review_overdue", "=", True), ("owner_id", "!=", False)])
        Notice = self.env["retail.governance.review.notice"]
        known = {
            (n.res_model, n.res_id, n.review_date)
            for n in Notice.search([("res_id", "in", rows.mapped("res_id"))])
        }
        created = Notice
        for row in rows:
            if (row.res_model, row.res_id, row.review_date) in known:
                continue
            record = self.env[row.res_model].browse(row.res_id)
            if "activity_ids" not in record._fields:
                continue
            if "review_date" in record._fields and not record.review_date:
                continue  # reviewed with its backend: the backend's activity
            activity = record.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.context_today(self),
                summary=_("Review this integration"),
                note=_(
                    "The review of %(name)s was due on %(date)s: check it is still "
                    "needed, its owner, purpose, data classification and scopes, "
                    "then set its next review date.",
                    name=row.name,
                    date=row.review_date,
                ),
                user_id=row.owner_id.id,
            )
            created |= Notice.create(
                {
                    "res_model": row.res_model,
                    "res_id": row.res_id,
                    "review_date": row.review_date,
                    "company_id": row.company_id.id,
                    "activity_id": activity.id,
                }
            )
        return created
