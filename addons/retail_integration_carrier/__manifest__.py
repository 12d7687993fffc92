{
    "name": "Retail Integration: Carriers",
    "summary": "Rates, labels and tracking from EasyPost or a generic JSON carrier "
    "in Odoo's own shipping methods: idempotent label purchase, signed tracking "
    "webhooks, shipment events and the exceptions inbox",
    "version": "18.0.1.0.0",
    "category": "Inventory/Delivery",
    "license": "LGPL-3",
    "author": "Retail Integration for Odoo",
    "website": "https://github.com/retail-integration/retail-integration",
    "depends": [
        "sale_stock",
        "stock_delivery",
        "retail_integration",
        "retail_integration_webhook",
        "retail_integration_outbox",
    ],
    "external_dependencies": {"python": ["easypost", "requests"]},
    "data": [
        "security/ir.model.access.csv",
        "security/retail_integration_carrier_security.xml",
        "data/retail_outbox_event_type_data.xml",
        "data/queue_job_function_data.xml",
        "data/ir_cron_data.xml",
        "views/retail_backend_views.xml",
        "views/delivery_carrier_views.xml",
        "views/retail_carrier_shipment_views.xml",
        "views/stock_picking_views.xml",
        "views/retail_integration_carrier_menus.xml",
    ],
    "demo": ["demo/carrier_demo.xml"],
    "assets": {
        "web.assets_tests": ["retail_integration_carrier/static/src/tours/*.js"],
    },
    "installable": True,
}
