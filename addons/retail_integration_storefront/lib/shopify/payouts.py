"""Shopify Payments: a paid ``ShopifyPaymentsPayout`` and the
``ShopifyPaymentsBalanceTransaction`` nodes it settles → the payouts'
:class:`~..payout.Payout` and :class:`~..payout.BalanceLine`."""

import calendar

from odoo.addons.retail_integration.lib.parsing import (
    MappingError,
    parse_amount,
    parse_object,
    parse_text,
    parse_timestamp,
)

from ..payout import BalanceLine, Payout

# ShopifyPaymentsTransactionType → the payouts' line kinds; the others
# (reserves, disputes, transfers...) are adjustments.
SHOPIFY_KINDS = {
    "CHARGE": "charge",
    "REFUND": "refund",
    "ADJUSTMENT": "adjustment",
}
# The payout's own transaction (the money leaving the balance for the bank).
PAYOUT_TYPES = ("PAYOUT", "PAYOUT_FAILURE", "PAYOUT_CANCELLATION")


def _legacy_id(value, where, required=True):
    """The number at the end of a global id (``gid://shopify/Order/42`` → 42)."""
    text = parse_text(value, where, required=required, limit=255)
    return text.rsplit("/", 1)[-1]


def _money(value, where, minimum=None):
    money = parse_object(value, where, required=True)
    return parse_amount(money.get("amount"), f"{where}.amount", minimum=minimum)


def shopify_payout(node, index=0):
    """The :class:`Payout` of a paid deposit payout."""
    where = f"payouts[{index}]"
    node = parse_object(node, where, required=True)
    net = parse_object(node.get("net"), f"{where}.net", required=True)
    issued = parse_timestamp(node.get("issuedAt"), f"{where}.issuedAt")
    payout_id = parse_text(
        node.get("legacyResourceId"), f"{where}.legacyResourceId", required=True
    )
    if not payout_id.isdigit():
        raise MappingError(f"{where}.legacyResourceId must be a number.")
    return Payout(
        payout_id,
        _money(net, f"{where}.net", minimum=0),
        parse_text(
            net.get("currencyCode"), f"{where}.net.currencyCode", required=True, limit=3
        ).upper(),
        calendar.timegm(issued.timetuple()) if issued else 0,
    )


def shopify_balance_line(node, index):
    """A :class:`BalanceLine` of a payout's balance transaction; None for the
    payout's own transaction."""
    where = f"balanceTransactions[{index}]"
    node = parse_object(node, where, required=True)
    kind = parse_text(node.get("type"), f"{where}.type", required=True, limit=64)
    if kind in PAYOUT_TYPES:
        return None
    order = parse_object(node.get("associatedOrder"), f"{where}.associatedOrder")
    name = parse_text((order or {}).get("name"), f"{where}.associatedOrder.name")
    source = parse_text(
        node.get("sourceOrderTransactionId"), f"{where}.sourceOrderTransactionId"
    )
    description = " ".join(
        part
        for part in (kind.lower(), name, source and f"(transaction {source})")
        if part
    )
    return BalanceLine(
        _legacy_id(node.get("id"), f"{where}.id"),
        SHOPIFY_KINDS.get(kind, "adjustment"),
        _money(node.get("amount"), f"{where}.amount"),
        _money(node.get("fee"), f"{where}.fee"),
        _money(node.get("net"), f"{where}.net"),
        _legacy_id((order or {}).get("id"), f"{where}.associatedOrder.id", False),
        description[:500],
    )


def paid_deposit(node):
    """Whether a payout node is a paid deposit (what reached the bank)."""
    if not isinstance(node, dict):
        raise MappingError("A payout must be an object.")
    return node.get("status") == "PAID" and node.get("transactionType", "DEPOSIT") == (
        "DEPOSIT"
    )
