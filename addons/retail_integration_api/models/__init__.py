from . import (
    retail_api_scope,
    retail_api_client,
    retail_api_key,
    retail_api_call,
    retail_api_idempotency,
    retail_api_reservation,
    retail_api_return,
    retail_api_service,
    retail_backend,
    stock_picking,
    stock_warehouse,
)
from . import governance
