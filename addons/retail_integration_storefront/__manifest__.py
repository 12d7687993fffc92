{
    "name": "Retail Integration: Storefronts",
    "summary": "Web orders from a generic JSON storefront, Shopify and WooCommerce "
    "into sale orders, once and correctly; stock, prices, products and "
    "fulfilments back to the channel",
    "version": "18.0.1.4.0",
    "category": "Sales/Sales",
    "license": "LGPL-3",
    "author": "Retail Integration for Odoo",
    "website": "https://github.com/retail-integration/retail-integration",
    "depends": [
        "sale_stock",
        "delivery",
        "retail_integration",
        "retail_integration_webhook",
        "retail_integration_outbox",
    ],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "security/retail_integration_storefront_security.xml",
        "data/product_data.xml",
        "data/queue_job_function_data.xml",
        "data/ir_cron_data.xml",
        "views/retail_backend_views.xml",
        "views/sale_order_views.xml",
        "views/product_template_views.xml",
        "views/retail_storefront_payout_views.xml",
        "views/retail_sync_exception_views.xml",
        "views/retail_storefront_map_product_views.xml",
        "views/retail_integration_storefront_menus.xml",
    ],
    "demo": ["demo/storefront_demo.xml"],
    "assets": {
        "web.assets_tests": ["retail_integration_storefront/static/src/tours/*.js"],
    },
    "installable": True,
}
