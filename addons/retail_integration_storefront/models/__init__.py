from . import retail_backend
from . import retail_backend_export
from . import retail_event_subscription
from . import retail_inbound_message
from . import retail_storefront_exporter
from . import retail_storefront_importer
from . import retail_sync_exception
from . import sale_order
