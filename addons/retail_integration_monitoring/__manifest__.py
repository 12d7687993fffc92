{
    "name": "Retail Integration: Monitoring",
    "summary": "Flow health with owners and SLAs, business KPIs, hourly rollups, "
    "dashboard, trace by correlation id, alerts, anomaly hints, Prometheus metrics "
    "and a health check",
    "version": "18.0.1.0.0",
    "category": "Sales/Sales",
    "license": "LGPL-3",
    "author": "Retail Integration for Odoo",
    "website": "https://github.com/retail-integration/retail-integration",
    "depends": [
        "retail_integration",
        "retail_integration_webhook",
        "retail_integration_outbox",
        "retail_integration_storefront",
        "mail",
    ],
    "external_dependencies": {"python": ["prometheus_client"]},
    "data": [
        "security/ir.model.access.csv",
        "security/retail_integration_monitoring_security.xml",
        "data/discuss_channel_data.xml",
        "data/retail_outbox_event_type_data.xml",
        "data/ir_cron_data.xml",
        "views/retail_monitor_flow_views.xml",
        "views/retail_monitor_rollup_views.xml",
        "views/retail_monitor_kpi_value_views.xml",
        "views/retail_monitor_incident_views.xml",
        "views/retail_monitor_hint_views.xml",
        "views/retail_monitor_cause_views.xml",
        "views/retail_monitor_token_views.xml",
        "views/retail_monitor_trace_views.xml",
        "views/retail_integration_monitoring_menus.xml",
    ],
    "assets": {
        "web.assets_tests": ["retail_integration_monitoring/static/src/tours/*.js"],
    },
    "installable": True,
}
