{
    "name": "Retail Integration: Governed REST API",
    "summary": "REST API for stock, prices, orders, reservations and returns: "
    "clients with scoped hashed keys, least-privilege technical users, audit, "
    "rate limits, problem+json errors and an OpenAPI 3.1 document",
    "version": "18.0.1.1.0",
    "category": "Sales/Sales",
    "license": "LGPL-3",
    "author": "Retail Integration for Odoo",
    "website": "https://github.com/retail-integration/retail-integration",
    "depends": [
        "retail_integration_webhook",
        "retail_integration_storefront",
        "sale_stock",
    ],
    "external_dependencies": {"python": ["pydantic"]},
    "data": [
        "security/retail_integration_api_groups.xml",
        "security/ir.model.access.csv",
        "security/retail_integration_api_rules.xml",
        "data/retail_api_scope_data.xml",
        "data/retail_outbox_event_type_data.xml",
        "data/ir_cron_data.xml",
        "views/retail_api_client_views.xml",
        "views/retail_api_key_views.xml",
        "views/retail_api_call_views.xml",
        "views/retail_api_reservation_views.xml",
        "views/retail_api_return_views.xml",
        "views/retail_integration_api_menus.xml",
    ],
    "demo": ["demo/retail_api_client_demo.xml"],
    "installable": True,
}
