{
    "name": "Retail Integration: Outbox",
    "summary": "Business events written with the change, delivered signed (Standard "
    "Webhooks) with retry, circuit breaker, dead letter, coalescing and replay",
    "version": "18.0.1.2.0",
    "category": "Sales/Sales",
    "license": "LGPL-3",
    "author": "Retail Integration for Odoo",
    "website": "https://github.com/retail-integration/retail-integration",
    "depends": ["retail_integration", "sale_stock", "stock_delivery", "account"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "security/retail_integration_outbox_rules.xml",
        "data/retail_outbox_event_type_data.xml",
        "data/queue_job_function_data.xml",
        "data/ir_cron_data.xml",
        "views/retail_outbox_event_views.xml",
        "views/retail_outbox_delivery_views.xml",
        "views/retail_event_subscription_views.xml",
        "views/retail_outbox_replay_wizard_views.xml",
        "views/retail_integration_outbox_menus.xml",
    ],
    "demo": ["demo/retail_event_subscription_demo.xml"],
    "assets": {
        "web.assets_tests": ["retail_integration_outbox/static/src/tours/*.js"],
    },
    "installable": True,
}
