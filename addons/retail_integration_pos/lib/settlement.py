"""End-of-day settlement: a register's Z report against the tickets received.

Plain Python. ``check`` says whether a register's business day balances,
waits for late tickets, or shows a difference, and why, in figures a store
manager and an accountant read: the ticket numbers missing from the
register's sequence, and the difference per payment method.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from .tickets import CENT, sequence_number

BALANCED = "balanced"
WAITING = "waiting"
DIFFERENCE = "difference"
MAX_LISTED = 200  # missing numbers listed; more are counted


@dataclass
class MethodTotal:
    method: str
    expected: Decimal
    received: Decimal

    @property
    def difference(self):
        return self.received - self.expected


@dataclass
class Result:
    state: str
    received_count: int
    expected_count: int
    missing: list = field(default_factory=list)  # ticket numbers (int)
    methods: list = field(default_factory=list)  # MethodTotal
    cash_difference: Decimal = Decimal(0)

    @property
    def differences(self):
        return [m for m in self.methods if abs(m.difference) >= CENT]


def missing_numbers(numbers, first=None, last=None, expected_count=None):
    """The sequence numbers absent between ``first`` and ``last`` (the Z
    report's range, else the lowest and highest received, extended to the
    expected count). ``numbers`` are ticket numbers as received."""
    seq = {n for n in map(sequence_number, numbers) if n is not None}
    low = sequence_number(first) if first else None
    high = sequence_number(last) if last else None
    if low is None:
        low = min(seq) if seq else None
    if high is None and low is not None and expected_count:
        high = max(low + expected_count - 1, max(seq) if seq else low)
    if high is None:
        high = max(seq) if seq else None
    if low is None or high is None or high < low or high - low > 10**6:
        return []
    return [n for n in range(low, high + 1) if n not in seq]


def check(zreport, numbers, received_totals, cash_received=None):
    """Compare ``zreport`` (tickets.ZReport) with what Odoo received.

    ``numbers``: ticket numbers received for the register and day (voids
    included); ``received_totals``: {method code: amount} of the imported
    payments; ``cash_received``: the cash taken (for the cash counted).
    Returns a :class:`Result` whose state is BALANCED, or WAITING when tickets
    are missing (the caller turns it into a difference after the deadline),
    or DIFFERENCE when every ticket is there but the figures differ.
    """
    methods = [
        MethodTotal(
            method,
            zreport.totals.get(method, Decimal(0)),
            received_totals.get(method) or Decimal(0),
        )
        for method in sorted(set(zreport.totals) | set(received_totals), key=str)
    ]
    missing = missing_numbers(
        numbers, zreport.first_number, zreport.last_number, zreport.ticket_count
    )
    cash_difference = Decimal(0)
    if zreport.cash_counted is not None and cash_received is not None:
        cash_difference = zreport.cash_counted - cash_received
    result = Result(
        state=BALANCED,
        received_count=len(set(numbers)),
        expected_count=zreport.ticket_count,
        missing=missing,
        methods=methods,
        cash_difference=cash_difference,
    )
    if result.received_count < zreport.ticket_count or missing:
        result.state = WAITING
    elif (
        result.received_count != zreport.ticket_count
        or result.differences
        or abs(cash_difference) >= CENT
    ):
        result.state = DIFFERENCE
    return result


def format_missing(missing):
    """``1003, 1007-1009`` (ranges joined), at most MAX_LISTED numbers."""
    if not missing:
        return ""
    parts, start, prev = [], missing[0], missing[0]
    for n in missing[1 : MAX_LISTED + 1] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    text = ", ".join(parts)
    if len(missing) > MAX_LISTED + 1:
        text += f" … ({len(missing)} in all)"
    return text
