from . import (
    flow_sources,
    kpis,
    retail_monitor_flow,
    retail_monitor_flow_export,
    retail_monitor_rollup,
    retail_monitor_kpi_value,
    retail_monitor_incident,
    retail_monitor_hint,
    retail_monitor_cause,
    retail_monitor_token,
    retail_monitor_trace,
)
