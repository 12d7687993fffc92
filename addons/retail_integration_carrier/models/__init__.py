from . import retail_backend
from . import delivery_carrier
from . import retail_carrier_shipment
from . import retail_carrier_tracking_event
from . import stock_picking
from . import retail_inbound_message
from . import monitoring
