"""The Prometheus exposition of flows and KPIs, through prometheus_client's
own families and its text format (``generate_latest``), from plain dicts the
controller builds."""

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .sla import ORDER

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FLOW_LABELS = ["flow", "name", "backend", "company", "direction", "kind"]
CIRCUIT_VALUES = {"closed": 0, "open": 1, "stopped": 2}
KPI_STATE_VALUES = {"unknown": -1, **ORDER}


class _Collector:
    def __init__(self, flows, kpis, duration):
        self.flows = flows
        self.kpis = kpis
        self.duration = duration

    def collect(self):
        def gauge(name, doc, extra=()):
            return GaugeMetricFamily(name, doc, labels=[*FLOW_LABELS, *extra])

        volume = gauge("retail_flow_volume", "Items that entered the flow.", ["window"])
        failures = gauge(
            "retail_flow_failures", "Items of the window that failed.", ["window"]
        )
        ratio = gauge(
            "retail_flow_failure_ratio", "Failed share over the SLA window.", ["window"]
        )
        backlog = gauge("retail_flow_backlog", "Items waiting now.", ["state"])
        oldest = gauge(
            "retail_flow_oldest_pending_age_seconds", "Age of the oldest waiting item."
        )
        lag = gauge("retail_flow_lag_seconds", "Lag over the SLA window.", ["quantile"])
        sla_state = gauge("retail_flow_sla_state", "0 ok, 1 warning, 2 breached.")
        circuit = gauge("retail_flow_circuit_state", "0 closed, 1 open, 2 stopped.")
        last = gauge(
            "retail_flow_last_success_timestamp_seconds", "Last item that succeeded."
        )
        measure_age = gauge(
            "retail_flow_measure_age_seconds",
            "Age of the monitoring cron's measure these values come from.",
        )
        items = CounterMetricFamily(
            "retail_flow_items", "Items of the closed hours.", labels=FLOW_LABELS
        )
        failed = CounterMetricFamily(
            "retail_flow_failed_items",
            "Failed items of the closed hours.",
            labels=FLOW_LABELS,
        )
        for f in self.flows:
            labels = [
                f[k] or ""
                for k in ("key", "name", "backend", "company", "direction", "kind")
            ]
            window = f"{f['window_hours']}h"
            for w in ("1h", "24h"):
                volume.add_metric([*labels, w], f[f"volume_{w}"])
                failures.add_metric([*labels, w], f[f"failed_{w}"])
            ratio.add_metric([*labels, window], f["failure_rate"])
            for state in ("queued", "retrying", "dead"):
                backlog.add_metric([*labels, state], f[state])
            oldest.add_metric(labels, f["oldest_age"])
            lag.add_metric([*labels, "0.5"], f["lag_p50"])
            lag.add_metric([*labels, "0.95"], f["lag_p95"])
            sla_state.add_metric(labels, ORDER.get(f["sla_state"], 0))
            circuit.add_metric(labels, CIRCUIT_VALUES.get(f["circuit"], 0))
            if f["last_success"] is not None:
                last.add_metric(labels, f["last_success"])
            measure_age.add_metric(labels, f["measure_age"])
            items.add_metric(labels, f["items_total"])
            failed.add_metric(labels, f["failures_total"])
        yield from (
            volume,
            failures,
            ratio,
            backlog,
            oldest,
            lag,
            sla_state,
            circuit,
            last,
            measure_age,
        )
        yield from (items, failed)
        kpi_value = GaugeMetricFamily(
            "retail_kpi_value",
            "Business KPI value (unit in the label).",
            labels=["kpi", "backend", "company", "unit"],
        )
        kpi_state = GaugeMetricFamily(
            "retail_kpi_state",
            "-1 no data, 0 ok, 1 warning, 2 breached.",
            labels=["kpi", "backend", "company"],
        )
        for k in self.kpis:
            labels = [k["kpi"], k["backend"] or "", k["company"] or ""]
            if k["value"] is not None:
                kpi_value.add_metric([*labels, k["unit"]], k["value"])
            kpi_state.add_metric(labels, KPI_STATE_VALUES.get(k["state"], 0))
        yield kpi_value
        yield kpi_state
        yield GaugeMetricFamily(
            "retail_monitoring_scrape_duration_seconds",
            "Time the server spent reading the stored measure for this scrape.",
            value=self.duration,
        )


def exposition(flows, kpis, duration=0.0):
    """The text a scrape receives (bytes)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(flows, kpis, duration))
    return generate_latest(registry)
