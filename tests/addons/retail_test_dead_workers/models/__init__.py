from . import retail_inbound_message
