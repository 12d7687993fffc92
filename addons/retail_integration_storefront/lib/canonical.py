"""The canonical storefront order, and the checks every order must pass.

Every provider's payload is mapped to an :class:`Order` first; only the
importer turns an :class:`Order` into Odoo records. Amounts are ``Decimal``
in the order's currency; nothing here rounds.
"""

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

# Limits that stop hostile or broken payloads before they reach the database.
MAX_LINES = 500
MAX_QUANTITY = Decimal(100_000)
MAX_AMOUNT = Decimal(1_000_000_000)
MAX_TEXT = 512

FINANCIAL_STATES = (
    "pending",
    "authorized",
    "partially_paid",
    "paid",
    "partially_refunded",
    "refunded",
    "voided",
)
ORDER_STATES = ("open", "closed", "cancelled")


class MappingError(ValueError):
    """The payload cannot be an order; the message says why, in plain words."""


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


@dataclass(frozen=True)
class Order:
    external_id: str
    name: str
    currency: str
    total: Decimal
    lines: tuple
    prices_include_tax: bool = False
    financial_status: str = "pending"
    status: str = "open"
    customer: Customer = field(default_factory=Customer)
    billing: Address = field(default_factory=Address)
    shipping_address: Address = field(default_factory=Address)
    shipping: tuple = ()
    fees: tuple = ()
    updated_at: datetime | None = None
    note: str = ""

    @property
    def is_paid(self):
        return self.financial_status in ("paid", "partially_refunded", "refunded")

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
        """Refuse an order that cannot be right, whatever the provider."""
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


# Field readers: each raises MappingError naming the field.


def text(value, where, required=False, limit=MAX_TEXT):
    if value is None or value == "":
        if required:
            raise MappingError(f"{where} is missing.")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MappingError(f"{where} must be a text, not {type(value).__name__}.")
    value = str(value).strip()
    if len(value) > limit:
        raise MappingError(f"{where} is longer than {limit} characters.")
    if required and not value:
        raise MappingError(f"{where} is missing.")
    return value


def amount(value, where, required=True, default=Decimal(0), minimum=Decimal(0)):
    """A money amount or quantity given as a JSON number or a decimal string."""
    if value is None or value == "":
        if required:
            raise MappingError(f"{where} is missing.")
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MappingError(f"{where} must be a number, not {type(value).__name__}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise MappingError(f"{where} must be a finite number.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as err:
        raise MappingError(f"{where} is not a number: {str(value)[:40]!r}.") from err
    if not number.is_finite():
        raise MappingError(f"{where} must be a finite number.")
    if minimum is not None and number < minimum:
        raise MappingError(f"{where} may not be negative ({number}).")
    if abs(number) > MAX_AMOUNT:
        raise MappingError(f"{where} is too large ({number}).")
    return number


def obj(value, where, required=False):
    if value is None:
        if required:
            raise MappingError(f"{where} is missing.")
        return {}
    if not isinstance(value, dict):
        raise MappingError(f"{where} must be an object, not {type(value).__name__}.")
    return value


def items(value, where):
    if value is None:
        return []
    if not isinstance(value, list):
        raise MappingError(f"{where} must be a list, not {type(value).__name__}.")
    if len(value) > MAX_LINES:
        raise MappingError(f"{where} has more than {MAX_LINES} entries.")
    for index, item in enumerate(value):
        obj(item, f"{where}[{index}]", required=True)
    return value


def timestamp(value, where):
    """An ISO 8601 date-time as naive UTC (a missing zone means UTC)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MappingError(f"{where} must be an ISO 8601 date-time.")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise MappingError(
            f"{where} is not an ISO 8601 date-time: {value[:40]!r}."
        ) from err
    if moment.tzinfo:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def choice(value, where, allowed, default):
    if value in (None, ""):
        return default
    if value not in allowed:
        raise MappingError(
            f"{where} must be one of {', '.join(allowed)}, not {str(value)[:40]!r}."
        )
    return value


def totals_match(odoo_total, channel_total, rounding):
    """True when two totals differ by no more than the currency's rounding."""
    return abs(Decimal(str(odoo_total)) - Decimal(str(channel_total))) <= Decimal(
        str(rounding)
    )
