"""The carrier connector's flows and KPI for retail_integration_monitoring."""

from datetime import timedelta

from odoo.tools import SQL

try:
    from odoo.addons.retail_integration_monitoring.lib import flows, sources
except ImportError:
    flows = sources = None

from .retail_inbound_message import TRACKING_TOPICS


def _carrier_backends(env):
    # sudo: the monitoring cron discovers every company's flows
    return env["retail.backend"].sudo().search([("channel_type", "=", "carrier")])


def _refs(env, label):
    return [
        flows.FlowRef(str(b.id), f"{b.name} · {label}", b.id, b.company_id.id)
        for b in _carrier_backends(env)
    ]


if flows:

    @flows.register_source("carrier.tracking_in")
    class CarrierTrackingIn(sources.InboundMessageSource):
        label = "tracking in"
        data_kind = "tracking"
        purpose = "Carrier tracking updates reach the pickings and the customer."
        max_lag_seconds = 900
        where = "b.channel_type = 'carrier' AND m.topic = ANY(%(topics)s)"

        def params(self, env):
            return {
                "topics": sorted({t for ts in TRACKING_TOPICS.values() for t in ts})
            }

        def discover(self, env):
            return _refs(env, self.label)

    @flows.register_source("carrier.shipments_out")
    class CarrierShipmentsOut(flows.FlowSource):
        """Labels bought for pickings (retail_carrier_shipment), per backend:
        volume by creation, failed = Failed, lag = creation → label bought
        (write_date of the bought ones), backlog = To Buy / Waiting to Retry."""

        label = "shipments out"
        direction = "out"
        data_kind = "shipments"
        purpose = "Shipments created at the carrier, labels bought."
        classification = "personal"
        max_lag_seconds = 600

        def discover(self, env):
            return _refs(env, self.label)

        def window_stats(self, env, refs, start, end):
            env.flush_all()
            env.cr.execute(
                SQL(
                    """SELECT s.backend_id::text, count(*),
                          count(*) FILTER (WHERE s.state = 'failed'),
                          percentile_cont(0.5) WITHIN GROUP (
                              ORDER BY EXTRACT(EPOCH FROM s.write_date - s.create_date)
                          ) FILTER (WHERE s.state = 'bought'),
                          percentile_cont(0.95) WITHIN GROUP (
                              ORDER BY EXTRACT(EPOCH FROM s.write_date - s.create_date)
                          ) FILTER (WHERE s.state = 'bought'),
                          max(s.write_date) FILTER (WHERE s.state = 'bought')
                     FROM retail_carrier_shipment s
                    WHERE s.create_date >= %s AND s.create_date < %s
                      AND s.backend_id::text = ANY(%s)
                    GROUP BY 1""",
                    start,
                    end,
                    list(refs),
                )
            )
            return {
                ref: flows.WindowStats(vol, failed, p50, p95, last)
                for ref, vol, failed, p50, p95, last in env.cr.fetchall()
            }

        def state_stats(self, env, refs, now):
            env.cr.execute(
                SQL(
                    """SELECT s.backend_id::text,
                          count(*) FILTER (WHERE s.state = 'draft'),
                          count(*) FILTER (WHERE s.state = 'pending'),
                          count(*) FILTER (WHERE s.state = 'failed'),
                          min(s.create_date)
                              FILTER (WHERE s.state IN ('draft', 'pending'))
                     FROM retail_carrier_shipment s
                    WHERE s.state IN ('draft', 'pending', 'failed')
                      AND s.backend_id::text = ANY(%s)
                    GROUP BY 1""",
                    list(refs),
                )
            )
            return {
                ref: flows.StateStats(queued, retrying, dead, oldest)
                for ref, queued, retrying, dead, oldest in env.cr.fetchall()
            }

        def records_action(self, env, ref, what):
            domain = [("backend_id", "=", int(ref))]
            if what == "failed":
                domain.append(("state", "=", "failed"))
            elif what == "pending":
                domain.append(("state", "in", ["draft", "pending"]))
            return {
                "type": "ir.actions.act_window",
                "name": env._("Shipments"),
                "res_model": "retail.carrier.shipment",
                "views": [[False, "list"], [False, "form"]],
                "domain": domain,
            }

    @flows.register_kpi("carrier_tracking_delay")
    class CarrierTrackingDelay(flows.Kpi):
        name = "Tracking update delay"
        unit = "s"
        warning = 900
        breach = 3600
        definition = (
            "For each tracking webhook of a carrier backend processed in the last "
            "24 h: received → processed (the picking and the shipment updated). "
            "Value: p95; detail: median."
        )

        def compute(self, env, now):
            env.cr.execute(
                """SELECT m.company_id, m.backend_id,
                          percentile_cont(0.95) WITHIN GROUP (ORDER BY
                              EXTRACT(EPOCH FROM m.processed_at - m.received_at)),
                          percentile_cont(0.5) WITHIN GROUP (ORDER BY
                              EXTRACT(EPOCH FROM m.processed_at - m.received_at)),
                          count(*)
                     FROM retail_inbound_message m
                     JOIN retail_backend b ON b.id = m.backend_id
                    WHERE b.channel_type = 'carrier' AND m.state = 'done'
                      AND m.received_at >= %s
                    GROUP BY 1, 2""",
                [now - timedelta(hours=24)],
            )
            return [
                flows.KpiValue(
                    company,
                    backend,
                    p95,
                    self.state_of(p95),
                    f"median {p50:.1f} s over {n} updates",
                    n,
                )
                for company, backend, p95, p50, n in env.cr.fetchall()
            ]
