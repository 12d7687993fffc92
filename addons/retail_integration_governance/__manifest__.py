{
    "name": "Retail Integration: Governance",
    "summary": "Integration inventory with owners, purposes, data classes and "
    "reviews; personal data masked in stored payloads; neutralized copies",
    "version": "18.0.1.0.0",
    "category": "Sales/Sales",
    "license": "LGPL-3",
    "author": "Retail Integration for Odoo",
    "website": "https://github.com/retail-integration/retail-integration",
    "depends": ["retail_integration_webhook", "retail_integration_outbox"],
    "data": [
        "security/ir.model.access.csv",
        "security/retail_integration_governance_rules.xml",
        "data/ir_config_parameter_data.xml",
        "data/ir_cron_data.xml",
        "views/retail_backend_views.xml",
        "views/retail_webhook_endpoint_views.xml",
        "views/retail_event_subscription_views.xml",
        "views/retail_inbound_message_views.xml",
        "views/retail_outbox_event_views.xml",
        "views/retail_integration_inventory_views.xml",
        "views/retail_integration_governance_menus.xml",
    ],
    "demo": ["demo/retail_governance_demo.xml"],
    "assets": {
        "web.assets_tests": ["retail_integration_governance/static/src/tours/*.js"],
    },
    "installable": True,
}
