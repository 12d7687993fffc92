"""The canonical documents every channel's payload is mapped to, and the
checks every order must pass, whatever the channel.

A connector maps its payload to an :class:`Order` (a web order, a POS
ticket...) with the readers of :mod:`.parsing`; an importer turns the
:class:`Order` into Odoo records. Amounts are ``Decimal`` in the order's
currency; nothing here rounds.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from .parsing import MAX_LINES, MAX_QUANTITY, MappingError

# The payment states an order can be in on its channel.
FINANCIAL_STATES = (
    "pending",
    "authorized",
    "partially_paid",
    "paid",
    "partially_refunded",
    "refunded",
    "voided",
)
PAID_STATES = ("paid", "partially_refunded", "refunded")
ORDER_STATES = ("open", "closed", "cancelled")


@dataclass(frozen=True)
class Address:
    name: str = ""
    company: str = ""
    street: str = ""
    street2: str = ""
    city: str = ""
    zip: str = ""
    state_code: str = ""
    country_code: str = ""
    phone: str = ""
    email: str = ""

    def __bool__(self):
        return any(asdict(self).values())


@dataclass(frozen=True)
class Customer:
    external_id: str = ""  # empty for a guest checkout
    email: str = ""
    name: str = ""
    company: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: Decimal
    unit_price: Decimal
    name: str = ""
    external_id: str = ""
    product_ref: str = ""  # the channel's product or variant id
    discount: Decimal = Decimal(0)  # amount off the whole line
    discount_label: str = ""


@dataclass(frozen=True)
class Shipping:
    name: str
    price: Decimal
    code: str = ""
    discount: Decimal = Decimal(0)


@dataclass(frozen=True)
class Fee:
    """An amount charged besides goods and shipping (a WooCommerce fee, a
    Shopify tip or duties), or credited when negative."""

    name: str
    amount: Decimal
    taxable: bool = False  # whether the channel charged tax on it


class RefundLine(NamedTuple):
    """Goods of one order line a refund covers."""

    sku: str
    quantity: Decimal
    amount: Decimal  # refunded for these goods, before tax
    # "return": the goods come back; "cancel": they were not shipped and will
    # not be; "none": the money only
    restock: str = "none"
    product_ref: str = ""


class Refund(NamedTuple):
    """Money the channel gave back on an order (a tuple: it unpacks), and
    the goods and shipping it covers."""

    order_external_id: str
    external_id: str
    amount: Decimal
    lines: tuple = ()  # RefundLine
    shipping: Decimal = Decimal(0)  # shipping refunded, before tax
    note: str = ""


@dataclass(frozen=True)
class Order:
    external_id: str
    name: str
    currency: str
    total: Decimal
    lines: tuple
    prices_include_tax: bool = False
    financial_status: str = "pending"  # the payment: one of FINANCIAL_STATES
    status: str = "open"
    customer: Customer = field(default_factory=Customer)
    billing: Address = field(default_factory=Address)
    shipping_address: Address = field(default_factory=Address)
    shipping: tuple = ()
    fees: tuple = ()
    updated_at: datetime | None = None
    note: str = ""
    # The payment gateway the customer paid through (Shopify's first payment
    # gateway name, WooCommerce's payment method): it picks the journal.
    gateway: str = ""

    @property
    def is_paid(self):
        return self.financial_status in PAID_STATES

    def lines_fingerprint(self):
        """Changes when what is sold changes, not when its status does."""
        content = [
            self.currency,
            self.prices_include_tax,
            [asdict(line) for line in self.lines],
            [asdict(ship) for ship in self.shipping],
        ]
        if self.fees:  # orders without fees keep the fingerprint they had
            content.append([asdict(fee) for fee in self.fees])
        return hashlib.sha256(json.dumps(content, default=str).encode()).hexdigest()

    def check(self):
        """Refuse an order that cannot be right, whatever the channel."""
        if not self.lines:
            raise MappingError(f"Order {self.name} has no lines.")
        if len(self.lines) > MAX_LINES:
            raise MappingError(f"Order {self.name} has more than {MAX_LINES} lines.")
        for index, line in enumerate(self.lines, 1):
            where = f"Order {self.name}, line {index} ({line.sku or line.name or '?'})"
            if line.quantity <= 0 or line.quantity > MAX_QUANTITY:
                raise MappingError(
                    f"{where}: the quantity {line.quantity} is not between 0 "
                    f"and {MAX_QUANTITY}."
                )
            if line.discount > line.unit_price * line.quantity:
                raise MappingError(f"{where}: the discount is larger than the line.")
            if not line.sku and not line.product_ref:
                raise MappingError(f"{where}: the line names no SKU and no product.")
        for ship in self.shipping:
            if ship.discount > ship.price:
                raise MappingError(
                    f"Order {self.name}: the shipping discount is larger than "
                    "the shipping."
                )
        if self.total < 0:
            raise MappingError(
                f"Order {self.name}: the total {self.total} is negative."
            )
        return self


def totals_match(odoo_total, channel_total, rounding):
    """True when two totals differ by no more than the currency's rounding."""
    return abs(Decimal(str(odoo_total)) - Decimal(str(channel_total))) <= Decimal(
        str(rounding)
    )
