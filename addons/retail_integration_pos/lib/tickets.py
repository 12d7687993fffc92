"""The canonical store ticket and Z report, read from JSON.

Plain Python: no ORM. ``parse_ticket`` reads one ticket of a batch and
raises :class:`MappingError` naming the field when it cannot be right;
``ticket_key`` reads only what identifies a ticket, so that a batch is
staged (and de-duplicated) before any ticket is mapped. The JSON Schema
``schemas/ticket.v1.json`` describes the same shape.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from odoo.addons.retail_integration.lib.parsing import (
    MappingError,
    parse_amount,
    parse_choice,
    parse_list,
    parse_object,
    parse_text,
    parse_timestamp,
)

MAX_BATCH = 500
KINDS = ("sale", "return", "exchange", "void")
MAX_CODE = 64
_TRAILING_NUMBER = re.compile(r"(\d{1,18})$")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class TicketKey:
    store: str
    register: str
    number: str
    business_date: date

    def label(self):
        return f"{self.store}/{self.register}/{self.number}"


@dataclass
class Line:
    sku: str
    barcode: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal  # percent
    name: str = ""
    original_line: int | None = None  # index of the returned line in the original


@dataclass
class Payment:
    method: str
    amount: Decimal
    reference: str = ""


@dataclass
class Ticket:
    key: TicketKey
    kind: str
    timestamp: datetime | None
    cashier: str
    lines: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    change: Decimal = Decimal(0)
    total: Decimal | None = None
    customer: dict = field(default_factory=dict)
    original: dict | None = None  # {"number", "register"?, "store"?}
    currency: str | None = None  # ISO 4217, as the till states it

    @property
    def paid(self):
        return sum((p.amount for p in self.payments), Decimal(0)) - self.change


@dataclass
class ZReport:
    store: str
    register: str
    business_date: date
    ticket_count: int
    first_number: str
    last_number: str
    totals: dict  # method -> Decimal
    cash_counted: Decimal | None
    closed_at: datetime | None


CURRENCY = re.compile(r"^[A-Z]{3}$")


def parse_date(value, where):
    if not isinstance(value, str):
        raise MappingError(f"{where} must be a date (YYYY-MM-DD).")
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError as err:
        raise MappingError(f"{where} is not a date: {value[:20]!r}.") from err


def _code(value, where):
    return parse_text(value, where, required=True, limit=MAX_CODE)


def ticket_key(raw, where="ticket"):
    """The identity of a ticket: (store, register, number, business date)."""
    raw = parse_object(raw, where, required=True)
    return TicketKey(
        store=_code(raw.get("store"), f"{where}.store"),
        register=_code(raw.get("register"), f"{where}.register"),
        number=_code(raw.get("number"), f"{where}.number"),
        business_date=parse_date(raw.get("business_date"), f"{where}.business_date"),
    )


def sequence_number(number):
    """The integer a ticket number ends with (``R1-0042`` → 42), or None."""
    match = _TRAILING_NUMBER.search(number or "")
    return int(match.group(1)) if match else None


def _line(raw, where, kind):
    sku = parse_text(raw.get("sku"), f"{where}.sku", limit=MAX_CODE)
    barcode = parse_text(raw.get("barcode"), f"{where}.barcode", limit=MAX_CODE)
    if not sku and not barcode:
        raise MappingError(f"{where} has neither a SKU nor a barcode.")
    quantity = parse_amount(raw.get("quantity"), f"{where}.quantity", minimum=None)
    if quantity == 0:
        raise MappingError(f"{where}.quantity may not be zero.")
    if kind == "sale" and quantity < 0:
        raise MappingError(f"{where}.quantity is negative on a sale.")
    if kind == "return" and quantity > 0:
        quantity = -quantity  # a return gives back what it names
    if abs(quantity) > Decimal(100_000):
        raise MappingError(f"{where}.quantity is too large ({quantity}).")
    discount = parse_amount(raw.get("discount"), f"{where}.discount", required=False)
    if discount > 100:
        raise MappingError(f"{where}.discount is a percentage: at most 100.")
    original_line = raw.get("original_line")
    if original_line is not None and (
        isinstance(original_line, bool)
        or not isinstance(original_line, int)
        or not 0 <= original_line < 500
    ):
        raise MappingError(f"{where}.original_line must be a line index (0 to 499).")
    return Line(
        sku=sku,
        barcode=barcode,
        quantity=quantity,
        unit_price=parse_amount(raw.get("unit_price"), f"{where}.unit_price"),
        discount=discount,
        name=parse_text(raw.get("name"), f"{where}.name", limit=256),
        original_line=original_line,
    )


def _payment(raw, where, kind):
    amount = parse_amount(raw.get("amount"), f"{where}.amount", minimum=None)
    if kind == "sale" and amount < 0:
        raise MappingError(f"{where}.amount is negative on a sale.")
    return Payment(
        method=_code(raw.get("method"), f"{where}.method"),
        amount=amount,
        reference=parse_text(raw.get("reference"), f"{where}.reference", limit=128),
    )


def parse_ticket(raw, where="ticket"):
    """The canonical :class:`Ticket` of ``raw``, or ``MappingError``."""
    key = ticket_key(raw, where)
    kind = parse_choice(raw.get("type"), f"{where}.type", KINDS, "sale")
    lines = [
        _line(item, f"{where}.lines[{i}]", kind)
        for i, item in enumerate(parse_list(raw.get("lines"), f"{where}.lines"))
    ]
    payments = [
        _payment(item, f"{where}.payments[{i}]", kind)
        for i, item in enumerate(parse_list(raw.get("payments"), f"{where}.payments"))
    ]
    if kind != "void" and not lines:
        raise MappingError(f"{where} has no lines.")
    original = None
    if raw.get("original") is not None:
        ref = parse_object(raw.get("original"), f"{where}.original")
        original = {
            "number": _code(ref.get("number"), f"{where}.original.number"),
            "register": parse_text(
                ref.get("register"), f"{where}.original.register", limit=MAX_CODE
            ),
            "store": parse_text(
                ref.get("store"), f"{where}.original.store", limit=MAX_CODE
            ),
        }
    total = raw.get("total")
    currency = raw.get("currency")
    if currency is not None and not (
        isinstance(currency, str) and CURRENCY.match(currency)
    ):
        raise MappingError(f"{where}.currency must be an ISO 4217 code like EUR.")
    ticket = Ticket(
        key=key,
        kind=kind,
        timestamp=parse_timestamp(raw.get("timestamp"), f"{where}.timestamp"),
        cashier=parse_text(raw.get("cashier"), f"{where}.cashier", limit=128),
        lines=lines,
        payments=payments,
        change=parse_amount(raw.get("change"), f"{where}.change", required=False),
        total=None
        if total is None
        else parse_amount(total, f"{where}.total", minimum=None),
        customer=parse_object(raw.get("customer"), f"{where}.customer"),
        original=original,
        currency=currency,
    )
    if kind != "void" and ticket.total is not None:
        if abs(ticket.paid - ticket.total) >= CENT:
            raise MappingError(
                f"{where}'s payments ({ticket.paid}) do not match its total "
                f"({ticket.total})."
            )
    return ticket


def parse_batch(payload):
    """The tickets of a batch upload: a list of raw tickets (at most 500).

    Raises ``MappingError`` when the envelope itself is wrong; each ticket is
    read later, on its own.
    """
    payload = parse_object(payload, "payload", required=True)
    data = payload.get("data", payload)
    data = parse_object(data, "data", required=True)
    tickets = data.get("tickets")
    if not isinstance(tickets, list):
        raise MappingError("data.tickets must be a list of tickets.")
    if len(tickets) > MAX_BATCH:
        raise MappingError(
            f"A batch holds at most {MAX_BATCH} tickets, not {len(tickets)}."
        )
    return tickets


def parse_zreport(raw, where="zreport"):
    raw = parse_object(raw, where, required=True)
    count = raw.get("ticket_count")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count < 10**7:
        raise MappingError(f"{where}.ticket_count must be a whole number of tickets.")
    totals = {}
    for i, item in enumerate(parse_list(raw.get("totals"), f"{where}.totals")):
        method = _code(item.get("method"), f"{where}.totals[{i}].method")
        amount = parse_amount(
            item.get("amount"), f"{where}.totals[{i}].amount", minimum=None
        )
        totals[method] = totals.get(method, Decimal(0)) + amount
    cash = raw.get("cash_counted")
    return ZReport(
        store=_code(raw.get("store"), f"{where}.store"),
        register=_code(raw.get("register"), f"{where}.register"),
        business_date=parse_date(raw.get("business_date"), f"{where}.business_date"),
        ticket_count=count,
        first_number=parse_text(raw.get("first_number"), f"{where}.first_number"),
        last_number=parse_text(raw.get("last_number"), f"{where}.last_number"),
        totals=totals,
        cash_counted=None
        if cash is None
        else parse_amount(cash, f"{where}.cash_counted", minimum=None),
        closed_at=parse_timestamp(raw.get("closed_at"), f"{where}.closed_at"),
    )
