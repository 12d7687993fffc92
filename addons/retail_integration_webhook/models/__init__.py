from . import retail_webhook_endpoint
from . import retail_inbound_message
from . import retail_backend
from . import retail_inbound_tombstone
