"""The routes of version 1. Additive changes only: a breaking one is v2."""

from . import schemas as s
from .routes import Route, register

ORDER_EXAMPLE = {
    "id": "API-1001",
    "name": "#API-1001",
    "currency": "EUR",
    "total": "40.00",
    "financial_status": "paid",
    "customer": {"id": "C-7", "email": "ann@example.com", "name": "Ann Buyer"},
    "lines": [{"id": "1", "sku": "SKU-1", "quantity": 2, "unit_price": "20.00"}],
}
ORDER_OUT_EXAMPLE = {
    "id": "API-1001",
    "name": "S00042",
    "state": "sale",
    "channel_state": "open",
    "payment_state": "paid",
    "amount_total": "40.00",
    "currency": "EUR",
    "pickings": [
        {
            "name": "WH/OUT/00012",
            "state": "assigned",
            "warehouse": "WH",
            "tracking_ref": None,
            "carrier": None,
        }
    ],
    "invoices": [],
    "updated_at": "2026-12-04T10:00:00Z",
}
RESERVATION_EXAMPLE = {
    "id": 7,
    "reference": "CC-88",
    "state": "active",
    "warehouse": "SHOP1",
    "expires_at": "2026-12-04T12:00:00Z",
    "lines": [{"sku": "SKU-1", "quantity": 1.0}],
    "order": None,
    "release_reason": None,
}
RETURN_EXAMPLE = {
    "id": 3,
    "order_id": "API-1001",
    "state": "open",
    "reason": "damaged",
    "lines": [{"sku": "SKU-1", "quantity": 1.0, "received": 0.0}],
    "picking": "WH/IN/00007",
    "refund": None,
}

register(
    Route(
        "GET",
        "/stock",
        "stock",
        "Stock availability of SKUs per warehouse",
        "stock:read",
        "stock",
        query=s.StockQuery,
        response=s.StockOut,
        errors=("validation_error", "warehouse_forbidden", "not_found"),
        example_response={
            "items": [
                {
                    "sku": "SKU-1",
                    "warehouse": "WH",
                    "on_hand": 12.0,
                    "reserved": 1.0,
                    "available": 9,
                }
            ],
            "unknown_skus": [],
        },
    )
)
register(
    Route(
        "GET",
        "/prices",
        "prices",
        "Pricelist prices of SKUs for a quantity",
        "prices:read",
        "prices",
        query=s.PriceQuery,
        response=s.PriceOut,
        errors=("validation_error", "conflict"),
        example_response={
            "pricelist": "Web",
            "items": [
                {
                    "sku": "SKU-1",
                    "quantity": 1.0,
                    "unit_price": "20.00",
                    "currency": "EUR",
                }
            ],
            "unknown_skus": [],
        },
    )
)
register(
    Route(
        "POST",
        "/orders",
        "submit_order",
        "Submit an order (canonical order JSON)",
        "orders:write",
        "orders",
        raw_body="Order",
        response=s.OrderSubmitted,
        status=201,
        idempotent=True,
        errors=(
            "validation_error",
            "unsupported_media_type",
            "payload_too_large",
            "idempotency_key_required",
            "idempotency_key_reused",
            "idempotency_in_progress",
        ),
        example_request=ORDER_EXAMPLE,
        example_response={
            "id": "API-1001",
            "name": "S00042",
            "state": "sale",
            "summary": "Order #API-1001: created S00042.",
        },
    )
)
register(
    Route(
        "GET",
        "/orders",
        "list_orders",
        "Orders submitted by this client, newest first",
        "orders:read",
        "orders",
        query=s.PageQuery,
        response=s.OrderPage,
        errors=("validation_error",),
        example_response={"items": [ORDER_OUT_EXAMPLE], "next_cursor": None},
    )
)
register(
    Route(
        "GET",
        "/orders/{order_id}",
        "order_status",
        "An order's state, pickings, tracking, invoices and payments",
        "orders:read",
        "orders",
        response=s.OrderOut,
        errors=("not_found",),
        example_response=ORDER_OUT_EXAMPLE,
    )
)
register(
    Route(
        "POST",
        "/reservations",
        "reserve",
        "Reserve stock at a store for a customer (click-and-collect)",
        "reservations:write",
        "reservations",
        body=s.ReservationIn,
        response=s.ReservationOut,
        status=201,
        errors=(
            "validation_error",
            "unsupported_media_type",
            "warehouse_forbidden",
            "not_found",
            "insufficient_stock",
        ),
        example_request={
            "warehouse": "SHOP1",
            "customer": {"name": "Ann Buyer", "email": "ann@example.com"},
            "lines": [{"sku": "SKU-1", "quantity": 1}],
            "expires_in_minutes": 120,
            "reference": "CC-88",
        },
        example_response=RESERVATION_EXAMPLE,
    )
)
register(
    Route(
        "GET",
        "/reservations/{reservation_id}",
        "reservation_status",
        "A reservation",
        "reservations:write",
        "reservations",
        response=s.ReservationOut,
        errors=("not_found",),
        example_response=RESERVATION_EXAMPLE,
    )
)
register(
    Route(
        "POST",
        "/reservations/{reservation_id}/confirm",
        "confirm_reservation",
        "Confirm a reservation: an order and a picking at the store",
        "reservations:write",
        "reservations",
        response=s.ReservationOut,
        errors=("not_found", "conflict"),
        example_response={
            **RESERVATION_EXAMPLE,
            "state": "confirmed",
            "order": "S00043",
        },
    )
)
register(
    Route(
        "POST",
        "/reservations/{reservation_id}/release",
        "release_reservation",
        "Release a reservation",
        "reservations:write",
        "reservations",
        response=s.ReservationOut,
        errors=("not_found", "conflict"),
        example_response={
            **RESERVATION_EXAMPLE,
            "state": "released",
            "release_reason": "Released by the client.",
        },
    )
)
register(
    Route(
        "POST",
        "/returns",
        "open_return",
        "Open a return for an order's lines",
        "returns:write",
        "returns",
        body=s.ReturnIn,
        response=s.ReturnOut,
        status=201,
        errors=("validation_error", "unsupported_media_type", "not_found", "conflict"),
        example_request={
            "order_id": "API-1001",
            "lines": [{"sku": "SKU-1", "quantity": 1}],
            "reason": "damaged",
        },
        example_response=RETURN_EXAMPLE,
    )
)
register(
    Route(
        "GET",
        "/returns/{return_id}",
        "return_status",
        "A return: receipt, inspection, refund",
        "returns:write",
        "returns",
        response=s.ReturnOut,
        errors=("not_found",),
        example_response=RETURN_EXAMPLE,
    )
)
