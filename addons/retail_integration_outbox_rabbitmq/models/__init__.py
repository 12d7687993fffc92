from . import retail_event_subscription
