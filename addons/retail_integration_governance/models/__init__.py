from . import (
    retail_governance_mixin,
    retail_backend,
    retail_webhook_endpoint,
    retail_event_subscription,
    retail_inbound_message,
    retail_outbox_event,
    retail_governance_review_notice,
    retail_integration_inventory,
    inventory_sources,
)
