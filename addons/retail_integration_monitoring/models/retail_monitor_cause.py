import re

from odoo import fields, models, tools


class RetailMonitorCause(models.Model):
    """Open exceptions grouped by cause (same kind, same summary once
    numbers are set aside), with the owner and the fix suggested by how the
    same cause was resolved before. Decision support only."""

    _name = "retail.monitor.cause"
    _description = "Open Exceptions by Cause"
    _auto = False
    _order = "occurrences desc"
    _rec_name = "name"

    company_id = fields.Many2one("res.company", readonly=True)
    backend_id = fields.Many2one("retail.backend", readonly=True)
    kind = fields.Selection(
        selection=lambda self: (
            self.env["retail.sync.exception"]
            ._fields["kind"]
            ._description_selection(self.env)
        ),
        readonly=True,
    )
    name = fields.Char("Cause", readonly=True)
    open_count = fields.Integer("Open", readonly=True)
    occurrences = fields.Integer(readonly=True)
    first_seen = fields.Datetime(readonly=True)
    last_seen = fields.Datetime(readonly=True)
    resolved_before = fields.Integer("Resolved Before", readonly=True)
    suggested_owner_id = fields.Many2one("res.users", readonly=True)
    suggested_fix = fields.Text(
        readonly=True,
        help="The last note a person wrote on a resolved exception with the same "
        "cause.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            """
            CREATE VIEW retail_monitor_cause AS (
            WITH open AS (
                SELECT min(x.id) AS id, x.company_id, x.backend_id, x.kind,
                       regexp_replace(x.name, '[0-9]+', 'N', 'g') AS name,
                       count(*) AS open_count,
                       sum(x.occurrence_count) AS occurrences,
                       min(x.first_seen) AS first_seen, max(x.last_seen) AS last_seen
                  FROM retail_sync_exception x
                 WHERE x.state IN ('new', 'in_progress')
                 GROUP BY x.company_id, x.backend_id, x.kind,
                          regexp_replace(x.name, '[0-9]+', 'N', 'g')
            ), resolved AS (
                SELECT r.id, r.kind, r.user_id,
                       regexp_replace(r.name, '[0-9]+', 'N', 'g') AS name
                  FROM retail_sync_exception r
                 WHERE r.state = 'resolved'
                   AND r.kind IN (SELECT kind FROM open)
            )
            SELECT o.*, hist.n AS resolved_before,
                   owner.user_id AS suggested_owner_id, fix.body AS suggested_fix
              FROM open o
              LEFT JOIN LATERAL (
                  SELECT count(*) AS n FROM resolved r
                   WHERE r.kind = o.kind AND r.name = o.name) hist ON TRUE
              LEFT JOIN LATERAL (
                  SELECT r.user_id FROM resolved r
                   WHERE r.kind = o.kind AND r.name = o.name AND r.user_id IS NOT NULL
                   GROUP BY r.user_id ORDER BY count(*) DESC, r.user_id LIMIT 1
              ) owner ON TRUE
              LEFT JOIN LATERAL (
                  SELECT regexp_replace(mm.body, '<[^>]+>', '', 'g') AS body
                    FROM resolved r
                    JOIN mail_message mm ON mm.model = 'retail.sync.exception'
                     AND mm.res_id = r.id AND mm.message_type = 'comment'
                   WHERE r.kind = o.kind AND r.name = o.name
                     AND mm.body IS NOT NULL AND mm.body <> ''
                   ORDER BY mm.id DESC LIMIT 1
              ) fix ON TRUE
            )
            """
        )

    def action_open_exceptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retail_integration.retail_sync_exception_action"
        )
        exceptions = self.env["retail.sync.exception"].search(
            [
                ("state", "in", ("new", "in_progress")),
                ("kind", "=", self.kind),
                ("backend_id", "=", self.backend_id.id),
            ]
        )
        ids = [e.id for e in exceptions if re.sub("[0-9]+", "N", e.name) == self.name]
        action["domain"] = [("id", "in", ids)]
        return action
