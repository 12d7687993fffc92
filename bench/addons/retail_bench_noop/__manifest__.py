{
    "name": "Retail Integration: benchmark baseline route",
    "summary": "A no-op auth='none' POST route: the benchmarks' baseline",
    "version": "18.0.1.0.0",
    "category": "Hidden",
    "license": "LGPL-3",
    "author": "Retail Integration for Odoo",
    "website": "https://github.com/retail-integration/retail-integration",
    "depends": ["web"],
    "installable": True,
}
