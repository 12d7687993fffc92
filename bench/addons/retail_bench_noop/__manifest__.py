{
    "name": "Retail Integration: benchmark baseline routes",
    "summary": "A no-op auth='none' POST route and a one-row durable INSERT route: "
    "the benchmarks' baselines",
    "version": "18.0.1.1.0",
    "category": "Hidden",
    "license": "LGPL-3",
    "author": "Retail Integration for Odoo",
    "website": "https://github.com/retail-integration/retail-integration",
    "depends": ["web"],
    "data": ["security/ir.model.access.csv"],
    "installable": True,
}
