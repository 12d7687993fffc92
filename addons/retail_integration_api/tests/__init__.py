from . import (
    test_lib,
    test_access,
    test_stock_prices,
    test_orders,
    test_reservations,
    test_returns,
    test_openapi,
)
