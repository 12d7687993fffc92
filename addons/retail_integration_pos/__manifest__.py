{
    "name": "Retail Integration: Store POS",
    "summary": "Store sales, returns and Z reports from external POS systems "
    "(canonical JSON, Square) into Odoo's point of sale, each ticket once; "
    "end-of-day settlement with missing tickets and differences",
    "version": "18.0.1.1.0",
    "category": "Sales/Point of Sale",
    "license": "LGPL-3",
    "author": "Retail Integration for Odoo",
    "website": "https://github.com/retail-integration/retail-integration",
    "depends": [
        "point_of_sale",
        "retail_integration",
        "retail_integration_webhook",
        "retail_integration_outbox",
    ],
    "external_dependencies": {"python": ["requests", "pytz"]},
    "data": [
        "security/ir.model.access.csv",
        "security/retail_integration_pos_security.xml",
        "data/queue_job_function_data.xml",
        "data/ir_cron_data.xml",
        "views/retail_backend_views.xml",
        "views/retail_pos_store_views.xml",
        "views/retail_pos_ticket_views.xml",
        "views/retail_pos_zreport_views.xml",
        "views/retail_pos_store_day_views.xml",
        "views/retail_pos_accept_difference_views.xml",
        "views/pos_order_views.xml",
        "views/pos_session_views.xml",
        "views/retail_integration_pos_menus.xml",
    ],
    "demo": ["demo/retail_pos_demo.xml"],
    "assets": {
        "web.assets_tests": ["retail_integration_pos/static/src/tours/*.js"],
    },
    "installable": True,
}
