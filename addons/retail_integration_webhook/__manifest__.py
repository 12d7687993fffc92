{
    "name": "Retail Integration: Inbound Webhooks",
    "summary": "Signed, deduplicated, durable and asynchronous webhook endpoints "
    "(Standard Webhooks, Shopify, WooCommerce, Stripe-style, GitHub-style)",
    "version": "18.0.1.5.0",
    "category": "Sales/Sales",
    "license": "LGPL-3",
    "author": "Retail Integration for Odoo",
    "website": "https://github.com/retail-integration/retail-integration",
    "depends": ["retail_integration"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "security/retail_integration_webhook_rules.xml",
        "data/queue_job_function_data.xml",
        "data/ir_cron_data.xml",
        "views/retail_webhook_endpoint_views.xml",
        "views/retail_inbound_message_views.xml",
        "views/retail_integration_webhook_menus.xml",
    ],
    "demo": ["demo/retail_webhook_endpoint_demo.xml"],
    "assets": {
        "web.assets_tests": ["retail_integration_webhook/static/src/tours/*.js"],
    },
    "installable": True,
}
