"""The POS connector's flows and KPI for retail_integration_monitoring (read
only when that module is installed; nothing happens otherwise)."""

from datetime import timedelta

try:
    from odoo.addons.retail_integration_monitoring.lib import flows, sources
except ImportError:  # the monitoring module is not in the addons path
    flows = sources = None


def _pos_backends(env):
    # sudo: the monitoring cron discovers every company's flows
    return env["retail.backend"].sudo().search([("channel_type", "=", "pos")])


if flows:

    @flows.register_source("pos.tickets_in")
    class PosTicketsIn(sources.InboundMessageSource):
        """Store sales and returns posted by the POS, per backend."""

        label = "tickets in"
        data_kind = "tickets"
        purpose = "Store sales and returns become POS orders."
        classification = "personal"
        max_lag_seconds = 600
        max_failure_rate = 0.01
        where = "b.channel_type = 'pos'"

        def discover(self, env):
            return [
                flows.FlowRef(
                    str(b.id), f"{b.name} · {self.label}", b.id, b.company_id.id
                )
                for b in _pos_backends(env)
            ]

    @flows.register_kpi("pos_eod_settlement")
    class PosEndOfDay(flows.Kpi):
        name = "End-of-day reconciliation"
        unit = "count"
        warning = 1  # one store day of yesterday not settled
        breach = 1
        definition = (
            "Store POS: of yesterday's store days (business date = yesterday, one per "
            "store), how many are neither Balanced nor Posted (Z report against "
            "Odoo's takings); breached when one shows a Difference, warning while "
            "some wait for tickets. Detail: settled / all."
        )

        def compute(self, env, now):
            # sudo: the monitoring cron computes every company's KPI; the
            # values carry their company and record rules filter them
            Day = env["retail.pos.store.day"].sudo()
            yesterday = (now - timedelta(days=1)).date()
            values = []
            for backend in _pos_backends(env):
                days = Day.search(
                    [("backend_id", "=", backend.id), ("business_date", "=", yesterday)]
                )
                unsettled = days.filtered(
                    lambda d: d.state not in ("balanced", "posted")
                )
                if not days:
                    state = "unknown"
                elif days.filtered(lambda d: d.state == "difference"):
                    state = "breached"
                else:
                    state = "warning" if unsettled else "ok"
                values.append(
                    flows.KpiValue(
                        backend.company_id.id,
                        backend.id,
                        float(len(unsettled)) if days else None,
                        state,
                        f"{len(days) - len(unsettled)} of {len(days)} store days "
                        "settled",
                        len(days),
                    )
                )
            return values
