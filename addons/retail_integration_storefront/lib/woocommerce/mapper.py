"""The order object of WooCommerce's REST API v3, which its ``order.*``
webhooks carry too → canonical :class:`Order`; its order refunds →
canonical :class:`Refund`."""

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

# status → (financial status, order status)
WOO_STATUS = {
    "pending": ("pending", "open"),
    "on-hold": ("pending", "open"),
    "failed": ("pending", "open"),
    "checkout-draft": ("pending", "open"),
    "processing": ("paid", "open"),
    "completed": ("paid", "closed"),
    "refunded": ("refunded", "closed"),
    "cancelled": ("pending", "cancelled"),
    "trash": ("pending", "cancelled"),
}


def _woo_address(data, where):
    data = parse_object(data, where)
    return Address(
        name=parse_person_name(data.get("first_name"), data.get("last_name"), where),
        company=parse_text(data.get("company"), f"{where}.company"),
        street=parse_text(data.get("address_1"), f"{where}.address_1"),
        street2=parse_text(data.get("address_2"), f"{where}.address_2"),
        city=parse_text(data.get("city"), f"{where}.city"),
        zip=parse_text(data.get("postcode"), f"{where}.postcode"),
        state_code=parse_text(data.get("state"), f"{where}.state"),
        country_code=parse_text(data.get("country"), f"{where}.country"),
        phone=parse_text(data.get("phone"), f"{where}.phone"),
        email=parse_text(data.get("email"), f"{where}.email"),
    )


def _woo_fees(data, include):
    """Fee lines (negative ones are discounts), with their tax when the
    shop's prices include it; fees of zero are left out."""
    fees = []
    for i, fee in enumerate(parse_list(data.get("fee_lines"), "fee_lines")):
        where = f"fee_lines[{i}]"
        price = parse_amount(fee.get("total"), f"{where}.total", minimum=None)
        tax = parse_amount(
            fee.get("total_tax"), f"{where}.total_tax", required=False, minimum=None
        )
        if include:
            price += tax
        if price:
            fees.append(
                Fee(
                    name=parse_text(fee.get("name"), f"{where}.name") or "Fee",
                    amount=price,
                    taxable=bool(tax),
                )
            )
    return tuple(fees)


def woocommerce_order(payload):
    """WooCommerce gives line amounts without tax; when the shop's prices
    include tax the canonical prices do too, as the customer saw them."""
    data = parse_object(payload, "The order", required=True)
    include = parse_bool(data.get("prices_include_tax", False), "prices_include_tax")
    coupons = ", ".join(
        parse_text(c.get("code"), f"coupon_lines[{i}].code")
        for i, c in enumerate(parse_list(data.get("coupon_lines"), "coupon_lines"))
    )
    lines = []
    for i, line in enumerate(parse_list(data.get("line_items"), "line_items")):
        where = f"line_items[{i}]"
        quantity = parse_amount(line.get("quantity"), f"{where}.quantity")
        gross = parse_amount(line.get("subtotal"), f"{where}.subtotal")
        net = parse_amount(line.get("total"), f"{where}.total")
        if include:
            gross += parse_amount(
                line.get("subtotal_tax"), f"{where}.subtotal_tax", required=False
            )
            net += parse_amount(
                line.get("total_tax"), f"{where}.total_tax", required=False
            )
        product_ref = line.get("variation_id") or line.get("product_id")
        lines.append(
            Line(
                sku=parse_text(line.get("sku"), f"{where}.sku"),
                quantity=quantity,
                unit_price=gross / quantity if quantity else gross,
                name=parse_text(line.get("name"), f"{where}.name"),
                external_id=parse_text(line.get("id"), f"{where}.id"),
                product_ref=parse_text(product_ref or "", f"{where}.product_id"),
                discount=gross - net,
                discount_label=coupons,
            )
        )
    shipping = []
    for i, ship in enumerate(parse_list(data.get("shipping_lines"), "shipping_lines")):
        where = f"shipping_lines[{i}]"
        price = parse_amount(ship.get("total"), f"{where}.total")
        if include:
            price += parse_amount(
                ship.get("total_tax"), f"{where}.total_tax", required=False
            )
        shipping.append(
            Shipping(
                name=parse_text(ship.get("method_title"), f"{where}.method_title")
                or "Shipping",
                price=price,
                code=parse_text(ship.get("method_id"), f"{where}.method_id"),
            )
        )
    status = parse_text(data.get("status"), "status") or "pending"
    if status not in WOO_STATUS:
        raise MappingError(f"status {status[:40]!r} is not a WooCommerce order status.")
    financial, state = WOO_STATUS[status]
    if financial == "pending" and data.get("date_paid_gmt") and state != "cancelled":
        financial = "paid"
    billing = _woo_address(data.get("billing"), "billing")
    customer_id = data.get("customer_id") or ""
    return Order(
        external_id=parse_text(data.get("id"), "id", required=True, limit=64),
        name=parse_text(data.get("number"), "number")
        or parse_text(data.get("id"), "id"),
        currency=parse_text(
            data.get("currency"), "currency", required=True, limit=3
        ).upper(),
        total=parse_amount(data.get("total"), "total"),
        lines=tuple(lines),
        prices_include_tax=include,
        financial_status=financial,
        status=state,
        customer=Customer(
            external_id=parse_text(customer_id, "customer_id", limit=64),
            email=billing.email,
            name=billing.name,
            company=billing.company,
            phone=billing.phone,
        ),
        billing=billing,
        shipping_address=_woo_address(data.get("shipping"), "shipping"),
        shipping=tuple(shipping),
        fees=_woo_fees(data, include),
        updated_at=parse_timestamp(data.get("date_modified_gmt"), "date_modified_gmt"),
        note=parse_text(data.get("customer_note"), "customer_note", limit=4000),
        gateway=parse_text(data.get("payment_method"), "payment_method", limit=64),
    ).check()


def woocommerce_refund_ids(payload):
    """The ids of the refunds an order lists (``refunds``: id, reason, total);
    their lines are read from ``orders/<id>/refunds``."""
    data = parse_object(payload, "The order", required=True)
    return tuple(
        parse_text(item.get("id"), f"refunds[{i}].id", required=True, limit=64)
        for i, item in enumerate(parse_list(data.get("refunds"), "refunds"))
    )


def _refunded(value, where):
    """A refund's quantity or total: negative or zero in WooCommerce's
    answer; returned positive."""
    number = parse_amount(value, where, required=False, minimum=None)
    if number > 0:
        raise MappingError(f"{where} of a refund may not be positive ({number}).")
    return -number


def woocommerce_refund(payload, order_id):
    """An order refund of ``GET orders/<id>/refunds``: ``amount`` (what was
    given back, tax included), its ``line_items`` and ``shipping_lines`` with
    negative quantities and totals (before tax). WooCommerce restocks refunded
    items unless told not to (``api_restock``, write-only: a refund read back
    does not say): a refunded quantity is goods that come back, or, not
    shipped yet, that will not be shipped."""
    data = parse_object(payload, "The refund", required=True)
    lines = []
    for i, item in enumerate(parse_list(data.get("line_items"), "line_items")):
        where = f"line_items[{i}]"
        item = parse_object(item, where, required=True)
        quantity = _refunded(item.get("quantity"), f"{where}.quantity")
        amount = _refunded(item.get("total"), f"{where}.total")
        product_ref = item.get("variation_id") or item.get("product_id")
        lines.append(
            RefundLine(
                sku=parse_text(item.get("sku"), f"{where}.sku", limit=64),
                quantity=quantity,
                amount=amount,
                restock="return" if quantity else "none",
                product_ref=parse_text(product_ref or "", f"{where}.product_id"),
            )
        )
    shipping = sum(
        (
            _refunded(ship.get("total"), f"shipping_lines[{i}].total")
            for i, ship in enumerate(
                parse_list(data.get("shipping_lines"), "shipping_lines")
            )
        ),
        Decimal(0),
    )
    return Refund(
        str(order_id),
        parse_text(data.get("id"), "id", required=True, limit=64),
        parse_amount(data.get("amount"), "amount", required=True),
        tuple(lines),
        shipping,
        parse_text(data.get("reason"), "reason", limit=500),
    )
