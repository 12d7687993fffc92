from odoo import api, fields, models

from ..lib import flows, sla


class RetailMonitorKpiValue(models.Model):
    """The last value of a registered business KPI for one backend."""

    _name = "retail.monitor.kpi.value"
    _description = "Integration Business KPI"
    _order = "state_rank desc, kpi_key, company_id, backend_id"

    kpi_key = fields.Char("KPI Key", required=True, readonly=True, index=True)
    name = fields.Char("KPI", required=True, readonly=True)
    backend_id = fields.Many2one("retail.backend", readonly=True, ondelete="cascade")
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    value = fields.Float(readonly=True, digits=(16, 4))
    has_value = fields.Boolean(readonly=True)
    unit = fields.Char(readonly=True)
    value_display = fields.Char("Shown Value", compute="_compute_value_display")
    state = fields.Selection(
        [
            ("ok", "OK"),
            ("warning", "Warning"),
            ("breached", "Breached"),
            ("unknown", "No Data"),
        ],
        readonly=True,
    )
    state_rank = fields.Integer(readonly=True)
    detail = fields.Char(readonly=True)
    samples = fields.Integer(readonly=True)
    definition = fields.Text(readonly=True)
    computed_at = fields.Datetime(readonly=True)

    @api.depends("value", "unit", "has_value")
    def _compute_value_display(self):
        for kpi in self:
            if not kpi.has_value:
                kpi.value_display = "—"
            elif kpi.unit == "s":
                kpi.value_display = sla.human_duration(kpi.value)
            elif kpi.unit == "ratio":
                kpi.value_display = f"{kpi.value * 100:.1f} %"
            elif kpi.unit == "h":
                kpi.value_display = f"{kpi.value:.1f} h"
            else:
                kpi.value_display = f"{kpi.value:g}"

    @api.model
    def _compute_all(self, now):
        """[(Kpi, KpiValue)] of every registered KPI now."""
        # sudo: the KPIs are computed over every company; people read their
        # stored values through the record rules
        env = self.sudo().env
        return [
            (kpi, value)
            for kpi in (
                cls()
                for cls in flows.installed(
                    flows.KPIS, self.env.registry._init_modules
                ).values()
            )
            for value in kpi.compute(env, now)
        ]

    @api.model
    def _refresh(self, now=None):
        """Replace the stored values with the KPIs' values now."""
        now = now or fields.Datetime.now()
        computed = self._compute_all(now)
        # sudo: as above
        Value = self.sudo()
        Value.search([]).unlink()
        Value.create(
            [
                {
                    "kpi_key": kpi.key,
                    "name": kpi.name,
                    "backend_id": value.backend_id,
                    "company_id": value.company_id,
                    "value": value.value or 0.0,
                    "has_value": value.value is not None,
                    "unit": kpi.unit,
                    "state": value.state,
                    "state_rank": {"unknown": -1, **sla.ORDER}.get(value.state, 0),
                    "detail": value.detail,
                    "samples": value.samples,
                    "definition": kpi.definition,
                    "computed_at": now,
                }
                for kpi, value in computed
            ]
        )
        return computed
