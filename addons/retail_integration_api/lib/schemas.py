"""The API's request and response models: they validate what comes in and
are the source of the OpenAPI document's schemas."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_SKUS = 500
MAX_LINES = 200
MAX_RESERVATION_MINUTES = 7 * 24 * 60

# No control characters in an identifier.
IDENTIFIER = r"^[^\x00-\x1f\x7f]+$"
Sku = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=IDENTIFIER
    ),
]
Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=IDENTIFIER
    ),
]
Quantity = Annotated[Decimal, Field(gt=0, le=100000, max_digits=12, decimal_places=3)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Queries -------------------------------------------------------------------


class StockQuery(Strict):
    skus: Annotated[list[Sku], Field(min_length=1, max_length=MAX_SKUS)] = Field(
        description="Comma-separated SKUs (product internal references), at most 500."
    )
    warehouse: Code | None = Field(
        None,
        description="A warehouse or store code; all the client's warehouses "
        "if left out.",
    )


class PriceQuery(Strict):
    skus: Annotated[list[Sku], Field(min_length=1, max_length=MAX_SKUS)]
    quantity: Quantity = Field(Decimal(1), description="Quantity the price is for.")


class PageQuery(Strict):
    cursor: str | None = Field(None, max_length=200, description="From `next_cursor`.")
    limit: int = Field(50, ge=1, le=200)


# Bodies --------------------------------------------------------------------


class Customer(Strict):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)
    ]
    email: (
        Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
        | None
    ) = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None


class QuantityLine(Strict):
    sku: Sku
    quantity: Quantity


class ReservationIn(Strict):
    warehouse: Code = Field(description="The store's warehouse code.")
    customer: Customer
    lines: Annotated[list[QuantityLine], Field(min_length=1, max_length=MAX_LINES)]
    expires_in_minutes: int = Field(
        120, ge=5, le=MAX_RESERVATION_MINUTES, description="Hold time, 5 min to 7 days."
    )
    reference: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="The caller's own reference."
    )


class ReturnIn(Strict):
    order_id: Code = Field(description="The order's id as submitted (its `id`).")
    lines: Annotated[list[QuantityLine], Field(min_length=1, max_length=MAX_LINES)]
    reason: Literal[
        "damaged", "wrong_item", "not_as_described", "no_longer_needed", "other"
    ]
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None


# Answers -------------------------------------------------------------------


class StockLevel(BaseModel):
    sku: str
    warehouse: str
    on_hand: float = Field(description="Quantity on hand at the warehouse.")
    reserved: float = Field(description="Held by API reservations not yet confirmed.")
    available: int = Field(
        description="What may be sold: free quantity less reservations and the "
        "safety buffer, whole units, never below zero."
    )


class StockOut(BaseModel):
    items: list[StockLevel]
    unknown_skus: list[str]


class Price(BaseModel):
    sku: str
    quantity: float
    unit_price: str = Field(description="Decimal string in the pricelist's currency.")
    currency: str


class PriceOut(BaseModel):
    pricelist: str
    items: list[Price]
    unknown_skus: list[str]


class Picking(BaseModel):
    name: str
    state: str
    warehouse: str | None
    tracking_ref: str | None
    carrier: str | None


class Invoice(BaseModel):
    name: str
    move_type: str
    state: str
    payment_state: str
    amount_total: str
    amount_residual: str


class OrderOut(BaseModel):
    id: str = Field(description="The order's id as submitted.")
    name: str = Field(description="Odoo's sale order number.")
    state: str
    channel_state: str | None
    payment_state: str | None
    amount_total: str
    currency: str
    pickings: list[Picking]
    invoices: list[Invoice]
    updated_at: datetime


class OrderSubmitted(BaseModel):
    id: str
    name: str
    state: str
    summary: str


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


class ReservationLine(BaseModel):
    sku: str
    quantity: float


class ReservationOut(BaseModel):
    id: int
    reference: str | None
    state: Literal["active", "confirmed", "released", "expired"]
    warehouse: str
    expires_at: datetime
    lines: list[ReservationLine]
    order: str | None = Field(description="Sale order number once confirmed.")
    release_reason: str | None


class ReturnLine(BaseModel):
    sku: str
    quantity: float
    received: float


class ReturnOut(BaseModel):
    id: int
    order_id: str
    state: Literal["open", "received", "inspected", "refunded", "cancelled"]
    reason: str
    lines: list[ReturnLine]
    picking: str | None
    refund: str | None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    correlation_id: str | None = None
    errors: list[dict] | None = None
