"""Square Orders API orders as canonical store tickets (plain Python).

From Square's public API reference (Orders API, Catalog API):
- an ``Order`` has ``id``, ``location_id``, ``state`` (OPEN, COMPLETED,
  CANCELED), ``created_at``/``closed_at`` (RFC 3339), ``line_items`` (each with
  ``uid``, ``quantity`` as a decimal string, ``catalog_object_id`` of its item
  variation, ``base_price_money`` and ``total_discount_money``), ``tenders``
  (``type`` CARD, CASH, OTHER, SQUARE_GIFT_CARD, …, with ``amount_money``;
  a cash tender's ``cash_details.change_back_money``), ``returns`` (each with
  ``source_order_id`` and ``return_line_items``, whose ``source_line_item_uid``
  names the returned line), ``metadata`` (string key/values the POS app sets)
  and ``total_money``;
- money is an integer in the currency's smallest unit.
The register and the ticket number are not Order fields: the store's POS
app puts them in ``metadata`` (``register``, ``ticket_number``); without
them, the order's device (``source.name``) and its id stand in.
"""

from decimal import Decimal

from odoo.addons.retail_integration.lib.parsing import (
    MappingError,
    parse_list,
    parse_object,
    parse_text,
)

ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW", "VND", "CLP", "ISK", "XOF", "XAF"}
IMPORTED_STATES = ("COMPLETED",)


def money(value, where):
    value = parse_object(value, where)
    amount = value.get("amount", 0)
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MappingError(f"{where}.amount must be a whole number of cents.")
    currency = value.get("currency") or ""
    digits = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    return Decimal(amount).scaleb(-digits)


def order_to_ticket(order, skus, store_dates):
    """The canonical ticket (a dict for ``tickets.parse_ticket``) of a Square
    order. ``skus``: {catalog variation id: SKU}; ``store_dates``: callable
    (location id, closed_at) → business date (the store's time zone)."""
    order = parse_object(order, "order", required=True)
    metadata = parse_object(order.get("metadata"), "order.metadata")
    source = parse_object(order.get("source"), "order.source")
    order_id = parse_text(order.get("id"), "order.id", required=True, limit=64)
    location = parse_text(
        order.get("location_id"), "order.location_id", required=True, limit=64
    )
    closed_at = order.get("closed_at") or order.get("created_at")
    lines = []
    index = {}
    for i, item in enumerate(parse_list(order.get("line_items"), "order.line_items")):
        where = f"order.line_items[{i}]"
        variation = parse_text(
            item.get("catalog_object_id"), f"{where}.catalog_object_id"
        )
        quantity = Decimal(parse_text(item.get("quantity"), f"{where}.quantity", True))
        base = money(item.get("base_price_money"), f"{where}.base_price_money")
        discount = money(
            item.get("total_discount_money"), f"{where}.total_discount_money"
        )
        gross = base * quantity
        index[item.get("uid")] = i
        lines.append(
            {
                "sku": skus.get(variation) or variation,
                "quantity": str(quantity),
                "unit_price": str(base),
                "discount": str((discount / gross * 100).quantize(Decimal("0.0001")))
                if gross and discount
                else "0",
                "name": parse_text(item.get("name"), f"{where}.name", limit=256),
            }
        )
    original = None
    for r, ret in enumerate(parse_list(order.get("returns"), "order.returns")):
        where = f"order.returns[{r}]"
        source_order = parse_text(
            ret.get("source_order_id"), f"{where}.source_order_id"
        )
        if source_order:
            original = {"number": source_order}
        for i, item in enumerate(
            parse_list(ret.get("return_line_items"), f"{where}.return_line_items")
        ):
            w = f"{where}.return_line_items[{i}]"
            variation = parse_text(
                item.get("catalog_object_id"), f"{w}.catalog_object_id"
            )
            quantity = Decimal(parse_text(item.get("quantity"), f"{w}.quantity", True))
            lines.append(
                {
                    "sku": skus.get(variation) or variation,
                    "quantity": str(-quantity),
                    "unit_price": str(
                        money(item.get("base_price_money"), f"{w}.base_price_money")
                    ),
                    "name": parse_text(item.get("name"), f"{w}.name", limit=256),
                }
            )
    payments = []
    change = Decimal(0)
    for i, tender in enumerate(parse_list(order.get("tenders"), "order.tenders")):
        where = f"order.tenders[{i}]"
        amount = money(tender.get("amount_money"), f"{where}.amount_money")
        cash = parse_object(tender.get("cash_details"), f"{where}.cash_details")
        if cash.get("change_back_money"):
            tendered = money(
                cash.get("buyer_tendered_money"), f"{where}.buyer_tendered_money"
            )
            change += money(cash["change_back_money"], f"{where}.change_back_money")
            amount = tendered or amount + change
        payments.append(
            {
                "method": parse_text(tender.get("type"), f"{where}.type", True, 64),
                "amount": str(amount),
                "reference": parse_text(tender.get("id"), f"{where}.id", limit=128),
            }
        )
    for i, refund in enumerate(parse_list(order.get("refunds"), "order.refunds")):
        payments.append(
            {
                "method": parse_text(
                    refund.get("tender_type") or "CARD",
                    f"order.refunds[{i}].tender_type",
                ),
                "amount": str(
                    -money(
                        refund.get("amount_money"), f"order.refunds[{i}].amount_money"
                    )
                ),
                "reference": parse_text(
                    refund.get("id"), f"order.refunds[{i}].id", limit=128
                ),
            }
        )
    has_sales = any(Decimal(line["quantity"]) > 0 for line in lines)
    has_returns = any(Decimal(line["quantity"]) < 0 for line in lines)
    kind = (
        "exchange" if has_sales and has_returns else "return" if has_returns else "sale"
    )
    if order.get("state") == "CANCELED":
        kind = "void"
    total = money(order.get("total_money"), "order.total_money")
    if kind == "return" and total > 0:
        total = -total
    ticket = {
        "store": location,
        "register": metadata.get("register") or source.get("name") or "square",
        "number": metadata.get("ticket_number") or order_id,
        "type": kind,
        "business_date": metadata.get("business_date")
        or store_dates(location, closed_at),
        "timestamp": closed_at,
        "cashier": metadata.get("cashier") or "",
        "lines": lines,
        "payments": payments,
        "change": str(change),
        "total": str(total),
        "external_id": order_id,
    }
    if original:
        ticket["original"] = original
    return ticket
