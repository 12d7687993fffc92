"""The named business KPIs, computed from the records the modules write.

Each is defined precisely in ``definition`` (shown beside its value, and in
readme/USAGE.md). The POS module adds the store's end-of-day settlement
and the carrier module its tracking delay the same way, from their code.
"""

from datetime import timedelta

from odoo.addons.retail_integration_outbox.lib.events import STOCK_LEVEL_CHANGED

from ..lib import flows

DAY = timedelta(hours=24)


def _float(value):
    return float(value) if value is not None else None


class SqlKpi(flows.Kpi):
    """A KPI whose value per backend is one aggregate statement's row:
    (company, backend, value, p50 or other detail number, samples)."""

    QUERY = None

    def rows(self, env, now):
        env.flush_all()
        env.cr.execute(self.QUERY, {"start": now - DAY, "now": now})
        return env.cr.fetchall()

    def compute(self, env, now):
        values = []
        for company, backend, value, other, samples in self.rows(env, now):
            value = _float(value)
            values.append(
                flows.KpiValue(
                    company,
                    backend,
                    value,
                    self.state_of(value),
                    self.detail(_float(other), samples),
                    samples,
                )
            )
        return values

    def detail(self, other, samples):
        return f"{samples} in 24 h"


@flows.register_kpi("order_latency")
class OrderLatency(SqlKpi):
    name = "Order latency"
    unit = "s"
    warning = 60
    breach = 300
    definition = (
        "For each storefront sale order confirmed in the last 24 h: the time "
        "from the reception of the first webhook that carried it (its "
        "correlation id; for an order pulled from the channel's API, the "
        "order's creation in Odoo) to its confirmation (sale.order.date_order, "
        "which Odoo sets on confirmation). Value: the 95th percentile, in "
        "seconds; detail: the median and the number of orders. No confirmed "
        "order: no value."
    )
    QUERY = """
        SELECT so.company_id, so.retail_backend_id,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY lat.seconds),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY lat.seconds),
               count(*)
          FROM sale_order so
          LEFT JOIN LATERAL (
              SELECT min(m.received_at) AS received
                FROM retail_inbound_message m
               WHERE so.retail_correlation_id IS NOT NULL
                 AND m.correlation_id = so.retail_correlation_id
          ) first ON TRUE
          CROSS JOIN LATERAL (
              SELECT GREATEST(0, EXTRACT(EPOCH FROM so.date_order
                  - COALESCE(first.received, so.create_date))) AS seconds
          ) lat
         WHERE so.retail_backend_id IS NOT NULL AND so.state = 'sale'
           AND so.date_order >= %(start)s AND so.date_order < %(now)s
         GROUP BY 1, 2
    """

    def detail(self, other, samples):
        return f"median {other:.1f} s over {samples} orders"


@flows.register_kpi("stock_update_delay")
class StockUpdateDelay(SqlKpi):
    name = "Stock update delay"
    unit = "s"
    warning = 120
    breach = 300
    definition = (
        "For each stock level a storefront acknowledged in the last 24 h "
        "(a delivery of stock.level_changed through the backend's storefront "
        "API subscription, delivered): the time from the stock change's "
        "commit (the event's occurred_at) to the channel's acknowledgement "
        "(delivered_at). A coalesced delivery counts from its newest change. "
        "Value: the 95th percentile, in seconds; detail: the median."
    )
    QUERY = f"""
        SELECT d.company_id, d.backend_id,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY lat.seconds),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY lat.seconds),
               count(*)
          FROM retail_outbox_delivery d
          JOIN retail_event_subscription s ON s.id = d.subscription_id
          JOIN retail_outbox_event e ON e.id = d.event_id
          CROSS JOIN LATERAL (
              SELECT GREATEST(0, EXTRACT(EPOCH FROM d.delivered_at - e.occurred_at))
                     AS seconds
          ) lat
         WHERE d.delivered_at >= %(start)s AND d.delivered_at < %(now)s
           AND d.state = 'delivered' AND s.delivery_mode = 'storefront'
           AND d.event_type = '{STOCK_LEVEL_CHANGED}'
         GROUP BY 1, 2
    """

    def detail(self, other, samples):
        return f"median {other:.1f} s over {samples} updates"


@flows.register_kpi("webhook_failure_rate")
class WebhookFailureRate(SqlKpi):
    name = "Webhook failure rate"
    unit = "ratio"
    warning = 0.02
    breach = 0.05
    definition = (
        "Of the webhooks a backend's endpoints accepted in the last 24 h "
        "(stored inbound messages, by received_at), the share whose "
        "processing failed for good (state Failed). Requests refused at the "
        "door (bad signature, duplicates) are not stored and not counted; "
        "ignored topics count as not failed."
    )
    QUERY = """
        SELECT m.company_id, m.backend_id,
               count(*) FILTER (WHERE m.state = 'failed')::float / count(*),
               count(*) FILTER (WHERE m.state = 'failed'),
               count(*)
          FROM retail_inbound_message m
         WHERE m.received_at >= %(start)s AND m.received_at < %(now)s
         GROUP BY 1, 2
    """

    def detail(self, other, samples):
        return f"{int(other)} failed of {samples}"


@flows.register_kpi("refund_exception_volume")
class RefundExceptionVolume(SqlKpi):
    name = "Refund exception volume"
    unit = "count"
    warning = 5
    breach = 20
    definition = (
        "Exceptions first seen in the last 24 h about a storefront sale order "
        "the channel refunded (its channel payment is Refunded or Partially "
        "Refunded): refunds on delivered or invoiced orders that need a "
        "return or a credit note by hand. Value: that count; detail: how many "
        "such exceptions are open, whenever they were seen."
    )
    QUERY = """
        SELECT x.company_id, so.retail_backend_id,
               count(*) FILTER (WHERE x.first_seen >= %(start)s),
               count(*) FILTER (WHERE x.state IN ('new', 'in_progress')),
               count(*)
          FROM retail_sync_exception x
          JOIN sale_order so ON so.id = x.res_id
         WHERE x.res_model = 'sale.order'
           AND so.retail_payment_state IN ('refunded', 'partially_refunded')
           AND (x.first_seen >= %(start)s OR x.state IN ('new', 'in_progress'))
         GROUP BY 1, 2
    """

    def detail(self, other, samples):
        return f"{int(other or 0)} open"


@flows.register_kpi("eod_reconciliation")
class EndOfDayReconciliation(flows.Kpi):
    name = "End-of-day reconciliation"
    unit = "h"
    warning = 26
    breach = 50
    definition = (
        "Storefronts: the hours since the backend's last catalogue "
        "reconciliation (stock, prices, names and status compared with the "
        "channel's; the daily cron runs it), breached when it never ran or "
        "its last run failed (its inbox item is open). Store POS end-of-day "
        "settlement (Z report against Odoo's takings) is added by the POS "
        "module under the same name."
    )

    def compute(self, env, now):
        # sudo: KPIs are computed for every company by the cron; record rules
        # apply when people read the values
        backends = (
            env["retail.backend"]
            .sudo()
            .search(
                [
                    ("channel_type", "=", "storefront"),
                    ("state", "=", "active"),
                    (
                        "provider",
                        "in",
                        env["retail.backend"]._storefront_api_providers(),
                    ),
                    "|",
                    "|",
                    ("storefront_export_stock", "=", True),
                    ("storefront_export_prices", "=", True),
                    ("storefront_export_products", "=", True),
                ]
            )
        )
        # sudo: as above: the reconciliation's inbox items of every company
        Exception_ = env["retail.sync.exception"].sudo()
        values = []
        for backend in backends:
            failed = Exception_.search_count(
                [
                    ("fingerprint", "in", _reconcile_fingerprints(Exception_, backend)),
                    ("state", "in", ("new", "in_progress")),
                ]
            )
            done = backend.storefront_reconciled_at
            hours = (now - done).total_seconds() / 3600 if done else None
            if failed:
                state, detail = "breached", "the last reconciliation failed"
            elif hours is None:
                state, detail = "breached", "never reconciled"
            else:
                state = self.state_of(hours)
                summary = (backend.storefront_reconcile_summary or "").splitlines()
                detail = summary[0] if summary else ""
            values.append(
                flows.KpiValue(
                    backend.company_id.id, backend.id, hours, state, detail, 1
                )
            )
        return values


def _reconcile_fingerprints(exceptions, backend):
    anchor = f"retail.backend,{backend.id}"
    return [
        exceptions._fingerprint(backend, kind, anchor, "reconcile:api")
        for kind in ("connection", "configuration")
    ]
