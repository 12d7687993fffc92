{
    "name": "Retail Integration: Outbox to RabbitMQ",
    "summary": "Outbox events published to a RabbitMQ stream (replayable, "
    "de-duplicated) or topic exchange, signed as the webhooks, with publisher "
    "confirms",
    "version": "18.0.1.1.0",
    "category": "Sales/Sales",
    "license": "LGPL-3",
    "author": "Retail Integration for Odoo",
    "website": "https://github.com/retail-integration/retail-integration",
    "depends": ["retail_integration_outbox"],
    "external_dependencies": {"python": ["rstream", "pika"]},
    "data": ["views/retail_event_subscription_views.xml"],
    "installable": True,
}
