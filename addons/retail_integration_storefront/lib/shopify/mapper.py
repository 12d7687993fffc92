"""Shopify's REST-shaped order (``orders/*`` webhooks, and pulled orders
through :mod:`.graphql_order`) and ``refunds/create`` → canonical documents."""

from decimal import Decimal

from odoo.addons.retail_integration.lib.canonical import (
    Address,
    Customer,
    Fee,
    Line,
    Order,
    Refund,
    RefundLine,
    Shipping,
)
from odoo.addons.retail_integration.lib.parsing import (
    MappingError,
    parse_amount,
    parse_bool,
    parse_list,
    parse_object,
    parse_person_name,
    parse_text,
    parse_timestamp,
)

# Shopify's restock types: "legacy_restock" (older refunds) returns goods
# that were shipped.
SHOPIFY_RESTOCK = {
    "return": "return",
    "legacy_restock": "return",
    "cancel": "cancel",
    "no_restock": "none",
}
SHOPIFY_FINANCIAL = {
    "pending": "pending",
    "authorized": "authorized",
    "partially_paid": "partially_paid",
    "paid": "paid",
    "partially_refunded": "partially_refunded",
    "refunded": "refunded",
    "voided": "voided",
    "expired": "voided",
}


def _shopify_address(data, where):
    data = parse_object(data, where)
    return Address(
        name=parse_text(data.get("name"), f"{where}.name")
        or parse_person_name(data.get("first_name"), data.get("last_name"), where),
        company=parse_text(data.get("company"), f"{where}.company"),
        street=parse_text(data.get("address1"), f"{where}.address1"),
        street2=parse_text(data.get("address2"), f"{where}.address2"),
        city=parse_text(data.get("city"), f"{where}.city"),
        zip=parse_text(data.get("zip"), f"{where}.zip"),
        state_code=parse_text(data.get("province_code"), f"{where}.province_code"),
        country_code=parse_text(data.get("country_code"), f"{where}.country_code"),
        phone=parse_text(data.get("phone"), f"{where}.phone"),
    )


def _shopify_discount(entry, applications, where):
    """Sum of a line's discount allocations, and the codes they come from."""
    total, labels = Decimal(0), []
    for i, alloc in enumerate(parse_list(entry.get("discount_allocations"), where)):
        total += parse_amount(alloc.get("amount"), f"{where}[{i}].amount")
        index = alloc.get("discount_application_index")
        if isinstance(index, int) and 0 <= index < len(applications):
            app = applications[index]
            label = parse_text(
                app.get("code") or app.get("title"), f"discount_applications[{index}]"
            )
            if label and label not in labels:
                labels.append(label)
    return total, ", ".join(labels)


def _shop_money(value, where):
    """The shop-currency amount of a Shopify money set (``shop_money``)."""
    shop = parse_object(
        parse_object(value, where).get("shop_money"), f"{where}.shop_money"
    )
    return parse_amount(
        shop.get("amount"), f"{where}.shop_money.amount", required=False
    )


def _shopify_tip(line, where):
    """A tip line item (the one that names its ``tip_payment_gateway``)."""
    return Fee(
        name=parse_text(line.get("name") or line.get("title"), f"{where}.name")
        or "Tip",
        amount=parse_amount(line.get("price"), f"{where}.price")
        * parse_amount(line.get("quantity"), f"{where}.quantity"),
    )


def _shopify_duties(data, line_items):
    """The duties charged with the order: its original total, else its current
    one, else the sum of its line items' duties."""
    for key in ("original_total_duties_set", "current_total_duties_set"):
        if data.get(key):
            return _shop_money(data[key], key)
    total = Decimal(0)
    for i, line in enumerate(line_items):
        where = f"line_items[{i}].duties"
        for j, duty in enumerate(parse_list(line.get("duties"), where)):
            # documented with shop_money on the duty; some versions nest it
            total += _shop_money(duty.get("price_set") or duty, f"{where}[{j}]")
    return total


def _shopify_fees(data, tips, line_items):
    """Tips (their line items, else ``total_tip_received``) and duties."""
    fees = list(tips)
    tip = parse_amount(
        data.get("total_tip_received"), "total_tip_received", required=False
    )
    if tip and not tips:
        fees.append(Fee(name="Tip", amount=tip))
    duties = _shopify_duties(data, line_items)
    if duties:
        fees.append(Fee(name="Duties", amount=duties))
    return tuple(fees)


def shopify_order(payload):
    data = parse_object(payload, "The order", required=True)
    applications = parse_list(
        data.get("discount_applications"), "discount_applications"
    )
    line_items = parse_list(data.get("line_items"), "line_items")
    lines, tips = [], []
    for i, line in enumerate(line_items):
        where = f"line_items[{i}]"
        if "tip_payment_gateway" in line:
            tips.append(_shopify_tip(line, where))
            continue
        discount, label = _shopify_discount(
            line, applications, f"{where}.discount_allocations"
        )
        lines.append(
            Line(
                sku=parse_text(line.get("sku"), f"{where}.sku"),
                quantity=parse_amount(line.get("quantity"), f"{where}.quantity"),
                unit_price=parse_amount(line.get("price"), f"{where}.price"),
                name=parse_text(line.get("name") or line.get("title"), f"{where}.name"),
                external_id=parse_text(line.get("id"), f"{where}.id"),
                product_ref=parse_text(line.get("variant_id"), f"{where}.variant_id"),
                discount=discount,
                discount_label=label,
            )
        )
    shipping = []
    for i, ship in enumerate(parse_list(data.get("shipping_lines"), "shipping_lines")):
        where = f"shipping_lines[{i}]"
        discount, _label = _shopify_discount(
            ship, applications, f"{where}.discount_allocations"
        )
        shipping.append(
            Shipping(
                name=parse_text(ship.get("title"), f"{where}.title") or "Shipping",
                price=parse_amount(ship.get("price"), f"{where}.price"),
                code=parse_text(ship.get("code"), f"{where}.code"),
                discount=discount,
            )
        )
    customer = parse_object(data.get("customer"), "customer")
    billing = _shopify_address(data.get("billing_address"), "billing_address")
    if data.get("cancelled_at"):
        status = "cancelled"
    elif data.get("closed_at"):
        status = "closed"
    else:
        status = "open"
    financial = data.get("financial_status") or "pending"
    if financial not in SHOPIFY_FINANCIAL:
        raise MappingError(
            f"financial_status {str(financial)[:40]!r} is not a Shopify status."
        )
    taxes_included = parse_bool(data.get("taxes_included", False), "taxes_included")
    return Order(
        external_id=parse_text(data.get("id"), "id", required=True, limit=64),
        name=parse_text(data.get("name"), "name") or parse_text(data.get("id"), "id"),
        currency=parse_text(
            data.get("currency"), "currency", required=True, limit=3
        ).upper(),
        total=parse_amount(data.get("total_price"), "total_price"),
        lines=tuple(lines),
        prices_include_tax=taxes_included,
        financial_status=SHOPIFY_FINANCIAL[financial],
        status=status,
        customer=Customer(
            external_id=parse_text(customer.get("id"), "customer.id", limit=64),
            email=parse_text(data.get("email") or customer.get("email"), "email"),
            name=parse_person_name(
                customer.get("first_name"), customer.get("last_name"), "customer"
            )
            or billing.name,
            company=billing.company,
            phone=parse_text(customer.get("phone"), "customer.phone") or billing.phone,
        ),
        billing=billing,
        shipping_address=_shopify_address(
            data.get("shipping_address"), "shipping_address"
        ),
        shipping=tuple(shipping),
        fees=_shopify_fees(data, tips, line_items),
        updated_at=parse_timestamp(data.get("updated_at"), "updated_at"),
        note=parse_text(data.get("note"), "note", limit=4000),
        gateway=_shopify_gateway(data),
    ).check()


def _shopify_gateway(data):
    names = data.get("payment_gateway_names")
    if names is not None and not isinstance(names, list):
        raise MappingError("payment_gateway_names must be a list.")
    return parse_text(names[0], "payment_gateway_names[0]", limit=64) if names else ""


def shopify_refund(payload):
    """``refunds/create``: the money refunded (its successful refund
    transactions), the goods (``refund_line_items`` with their
    ``restock_type``) and the shipping (``shipping_refund`` adjustments)."""
    data = parse_object(payload, "The order", required=True)
    refunded = Decimal(0)
    for i, trx in enumerate(parse_list(data.get("transactions"), "transactions")):
        if trx.get("kind") == "refund" and trx.get("status") in (None, "success"):
            refunded += parse_amount(trx.get("amount"), f"transactions[{i}].amount")
    lines = []
    for i, item in enumerate(
        parse_list(data.get("refund_line_items"), "refund_line_items")
    ):
        where = f"refund_line_items[{i}]"
        item = parse_object(item, where, required=True)
        sold = parse_object(item.get("line_item"), f"{where}.line_item") or {}
        lines.append(
            RefundLine(
                sku=parse_text(sold.get("sku"), f"{where}.line_item.sku", limit=64),
                quantity=parse_amount(item.get("quantity"), f"{where}.quantity"),
                amount=parse_amount(item.get("subtotal"), f"{where}.subtotal"),
                restock=SHOPIFY_RESTOCK.get(item.get("restock_type"), "none"),
                product_ref=parse_text(
                    sold.get("variant_id"), f"{where}.line_item.variant_id", limit=64
                ),
            )
        )
    shipping = Decimal(0)
    for i, adjustment in enumerate(
        parse_list(data.get("order_adjustments"), "order_adjustments")
    ):
        if adjustment.get("kind") == "shipping_refund":
            shipping += -parse_amount(
                adjustment.get("amount"),
                f"order_adjustments[{i}].amount",
                minimum=None,
            )
    return Refund(
        parse_text(data.get("order_id"), "order_id", required=True, limit=64),
        parse_text(data.get("id"), "id", required=True, limit=64),
        refunded,
        tuple(lines),
        shipping,
        parse_text(data.get("note"), "note", limit=500),
    )
