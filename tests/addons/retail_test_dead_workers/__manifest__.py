{
    "name": "Retail Integration: jobs that kill their worker (system tests only)",
    "summary": "Webhook topics whose job kills its own worker process, or sleeps: "
    "tests/test_dead_workers.py installs it on its test database",
    "version": "18.0.1.0.0",
    "category": "Hidden",
    "license": "LGPL-3",
    "author": "Retail Integration for Odoo",
    "website": "https://github.com/retail-integration/retail-integration",
    "depends": ["retail_integration_webhook"],
    "installable": True,
}
