"""A payment provider's payout and the balance transactions it settles, as
the payouts model takes them from every provider (Stripe, Shopify
Payments)."""

from decimal import Decimal
from typing import NamedTuple


class Payout(NamedTuple):
    external_id: str
    amount: Decimal  # what reaches the bank
    currency: str
    arrival: int = 0  # Unix time


class BalanceLine(NamedTuple):
    """One balance transaction a payout settles."""

    external_id: str
    kind: str  # charge, refund, adjustment, stripe_fee...
    amount: Decimal  # gross, negative for money going out
    fee: Decimal
    net: Decimal
    order_external_id: str = ""  # the channel order the money is for
    description: str = ""
