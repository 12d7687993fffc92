"""Provider payload → canonical :class:`~.canonical.Order`, one mapper per provider.

``generic`` reads the suite's documented canonical JSON (readme/USAGE.md);
``shopify`` reads the REST-shaped order of Shopify's ``orders/*`` webhooks;
``woocommerce`` reads the order object of WooCommerce's REST API v3, which is
also what its ``order.*`` webhooks carry.
"""

from decimal import Decimal

from .canonical import (
    FINANCIAL_STATES,
    ORDER_STATES,
    Address,
    Customer,
    Fee,
    Line,
    MappingError,
    Order,
    Shipping,
    amount,
    choice,
    items,
    obj,
    text,
    timestamp,
)


def _payload(payload):
    return obj(payload, "The order", required=True)


# Generic ---------------------------------------------------------------------


def _generic_address(data, where):
    data = obj(data, where)
    return Address(
        name=text(data.get("name"), f"{where}.name"),
        company=text(data.get("company"), f"{where}.company"),
        street=text(data.get("street"), f"{where}.street"),
        street2=text(data.get("street2"), f"{where}.street2"),
        city=text(data.get("city"), f"{where}.city"),
        zip=text(data.get("zip"), f"{where}.zip"),
        state_code=text(data.get("state_code"), f"{where}.state_code"),
        country_code=text(data.get("country_code"), f"{where}.country_code"),
        phone=text(data.get("phone"), f"{where}.phone"),
        email=text(data.get("email"), f"{where}.email"),
    )


def _generic_fees(data):
    """Fees (negative ones are credits), tax included when the order's prices
    include it, like its other amounts; fees of zero are left out."""
    fees = []
    for i, fee in enumerate(items(data.get("fees"), "fees")):
        where = f"fees[{i}]"
        taxable = fee.get("taxable", False)
        if not isinstance(taxable, bool):
            raise MappingError(f"{where}.taxable must be true or false.")
        fees.append(
            Fee(
                name=text(fee.get("name"), f"{where}.name") or "Fee",
                amount=amount(fee.get("amount"), f"{where}.amount", minimum=None),
                taxable=taxable,
            )
        )
    return tuple(fee for fee in fees if fee.amount)


def generic_order(payload):
    data = _payload(payload)
    name = text(data.get("name"), "name") or text(data.get("id"), "id", required=True)
    customer = obj(data.get("customer"), "customer")
    lines = tuple(
        Line(
            sku=text(line.get("sku"), f"lines[{i}].sku"),
            quantity=amount(line.get("quantity"), f"lines[{i}].quantity"),
            unit_price=amount(line.get("unit_price"), f"lines[{i}].unit_price"),
            name=text(line.get("name"), f"lines[{i}].name"),
            external_id=text(line.get("id"), f"lines[{i}].id"),
            product_ref=text(line.get("product_id"), f"lines[{i}].product_id"),
            discount=amount(
                line.get("discount"), f"lines[{i}].discount", required=False
            ),
            discount_label=text(line.get("discount_code"), f"lines[{i}].discount_code"),
        )
        for i, line in enumerate(items(data.get("lines"), "lines"))
    )
    shipping = tuple(
        Shipping(
            name=text(ship.get("name"), f"shipping[{i}].name") or "Shipping",
            price=amount(ship.get("price"), f"shipping[{i}].price"),
            code=text(ship.get("code"), f"shipping[{i}].code"),
            discount=amount(
                ship.get("discount"), f"shipping[{i}].discount", required=False
            ),
        )
        for i, ship in enumerate(items(data.get("shipping"), "shipping"))
    )
    prices_include_tax = data.get("prices_include_tax", False)
    if not isinstance(prices_include_tax, bool):
        raise MappingError("prices_include_tax must be true or false.")
    return Order(
        external_id=text(data.get("id"), "id", required=True, limit=64),
        name=name,
        currency=text(data.get("currency"), "currency", required=True, limit=3).upper(),
        total=amount(data.get("total"), "total"),
        lines=lines,
        prices_include_tax=prices_include_tax,
        financial_status=choice(
            data.get("financial_status"),
            "financial_status",
            FINANCIAL_STATES,
            "pending",
        ),
        status=choice(data.get("status"), "status", ORDER_STATES, "open"),
        customer=Customer(
            external_id=text(customer.get("id"), "customer.id", limit=64),
            email=text(customer.get("email"), "customer.email"),
            name=text(customer.get("name"), "customer.name"),
            company=text(customer.get("company"), "customer.company"),
            phone=text(customer.get("phone"), "customer.phone"),
        ),
        billing=_generic_address(data.get("billing_address"), "billing_address"),
        shipping_address=_generic_address(
            data.get("shipping_address"), "shipping_address"
        ),
        shipping=shipping,
        fees=_generic_fees(data),
        updated_at=timestamp(data.get("updated_at"), "updated_at"),
        note=text(data.get("note"), "note", limit=4000),
    ).check()


# Shopify ---------------------------------------------------------------------

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


def _person(first, last, where):
    return " ".join(
        p
        for p in (text(first, f"{where}.first_name"), text(last, f"{where}.last_name"))
        if p
    )


def _shopify_address(data, where):
    data = obj(data, where)
    return Address(
        name=text(data.get("name"), f"{where}.name")
        or _person(data.get("first_name"), data.get("last_name"), where),
        company=text(data.get("company"), f"{where}.company"),
        street=text(data.get("address1"), f"{where}.address1"),
        street2=text(data.get("address2"), f"{where}.address2"),
        city=text(data.get("city"), f"{where}.city"),
        zip=text(data.get("zip"), f"{where}.zip"),
        state_code=text(data.get("province_code"), f"{where}.province_code"),
        country_code=text(data.get("country_code"), f"{where}.country_code"),
        phone=text(data.get("phone"), f"{where}.phone"),
    )


def _shopify_discount(entry, applications, where):
    """Sum of a line's discount allocations, and the codes they come from."""
    total, labels = Decimal(0), []
    for i, alloc in enumerate(items(entry.get("discount_allocations"), where)):
        total += amount(alloc.get("amount"), f"{where}[{i}].amount")
        index = alloc.get("discount_application_index")
        if isinstance(index, int) and 0 <= index < len(applications):
            app = applications[index]
            label = text(
                app.get("code") or app.get("title"), f"discount_applications[{index}]"
            )
            if label and label not in labels:
                labels.append(label)
    return total, ", ".join(labels)


def _shop_money(value, where):
    """The shop-currency amount of a Shopify money set (``shop_money``)."""
    shop = obj(obj(value, where).get("shop_money"), f"{where}.shop_money")
    return amount(shop.get("amount"), f"{where}.shop_money.amount", required=False)


def _shopify_tip(line, where):
    """A tip line item (the one that names its ``tip_payment_gateway``)."""
    return Fee(
        name=text(line.get("name") or line.get("title"), f"{where}.name") or "Tip",
        amount=amount(line.get("price"), f"{where}.price")
        * amount(line.get("quantity"), f"{where}.quantity"),
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
        for j, duty in enumerate(items(line.get("duties"), where)):
            # documented with shop_money on the duty; some versions nest it
            total += _shop_money(duty.get("price_set") or duty, f"{where}[{j}]")
    return total


def _shopify_fees(data, tips, line_items):
    """Tips (their line items, else ``total_tip_received``) and duties."""
    fees = list(tips)
    tip = amount(data.get("total_tip_received"), "total_tip_received", required=False)
    if tip and not tips:
        fees.append(Fee(name="Tip", amount=tip))
    duties = _shopify_duties(data, line_items)
    if duties:
        fees.append(Fee(name="Duties", amount=duties))
    return tuple(fees)


def shopify_order(payload):
    data = _payload(payload)
    applications = items(data.get("discount_applications"), "discount_applications")
    line_items = items(data.get("line_items"), "line_items")
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
                sku=text(line.get("sku"), f"{where}.sku"),
                quantity=amount(line.get("quantity"), f"{where}.quantity"),
                unit_price=amount(line.get("price"), f"{where}.price"),
                name=text(line.get("name") or line.get("title"), f"{where}.name"),
                external_id=text(line.get("id"), f"{where}.id"),
                product_ref=text(line.get("variant_id"), f"{where}.variant_id"),
                discount=discount,
                discount_label=label,
            )
        )
    shipping = []
    for i, ship in enumerate(items(data.get("shipping_lines"), "shipping_lines")):
        where = f"shipping_lines[{i}]"
        discount, _label = _shopify_discount(
            ship, applications, f"{where}.discount_allocations"
        )
        shipping.append(
            Shipping(
                name=text(ship.get("title"), f"{where}.title") or "Shipping",
                price=amount(ship.get("price"), f"{where}.price"),
                code=text(ship.get("code"), f"{where}.code"),
                discount=discount,
            )
        )
    customer = obj(data.get("customer"), "customer")
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
    taxes_included = data.get("taxes_included", False)
    if not isinstance(taxes_included, bool):
        raise MappingError("taxes_included must be true or false.")
    return Order(
        external_id=text(data.get("id"), "id", required=True, limit=64),
        name=text(data.get("name"), "name") or text(data.get("id"), "id"),
        currency=text(data.get("currency"), "currency", required=True, limit=3).upper(),
        total=amount(data.get("total_price"), "total_price"),
        lines=tuple(lines),
        prices_include_tax=taxes_included,
        financial_status=SHOPIFY_FINANCIAL[financial],
        status=status,
        customer=Customer(
            external_id=text(customer.get("id"), "customer.id", limit=64),
            email=text(data.get("email") or customer.get("email"), "email"),
            name=_person(
                customer.get("first_name"), customer.get("last_name"), "customer"
            )
            or billing.name,
            company=billing.company,
            phone=text(customer.get("phone"), "customer.phone") or billing.phone,
        ),
        billing=billing,
        shipping_address=_shopify_address(
            data.get("shipping_address"), "shipping_address"
        ),
        shipping=tuple(shipping),
        fees=_shopify_fees(data, tips, line_items),
        updated_at=timestamp(data.get("updated_at"), "updated_at"),
        note=text(data.get("note"), "note", limit=4000),
    ).check()


def shopify_refund(payload):
    """``refunds/create``: (order id, refund id, amount refunded)."""
    data = _payload(payload)
    refunded = Decimal(0)
    for i, trx in enumerate(items(data.get("transactions"), "transactions")):
        if trx.get("kind") == "refund" and trx.get("status") in (None, "success"):
            refunded += amount(trx.get("amount"), f"transactions[{i}].amount")
    return (
        text(data.get("order_id"), "order_id", required=True, limit=64),
        text(data.get("id"), "id", required=True, limit=64),
        refunded,
    )


# WooCommerce -----------------------------------------------------------------

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
    data = obj(data, where)
    return Address(
        name=_person(data.get("first_name"), data.get("last_name"), where),
        company=text(data.get("company"), f"{where}.company"),
        street=text(data.get("address_1"), f"{where}.address_1"),
        street2=text(data.get("address_2"), f"{where}.address_2"),
        city=text(data.get("city"), f"{where}.city"),
        zip=text(data.get("postcode"), f"{where}.postcode"),
        state_code=text(data.get("state"), f"{where}.state"),
        country_code=text(data.get("country"), f"{where}.country"),
        phone=text(data.get("phone"), f"{where}.phone"),
        email=text(data.get("email"), f"{where}.email"),
    )


def _woo_fees(data, include):
    """Fee lines (negative ones are discounts), with their tax when the
    shop's prices include it; fees of zero are left out."""
    fees = []
    for i, fee in enumerate(items(data.get("fee_lines"), "fee_lines")):
        where = f"fee_lines[{i}]"
        price = amount(fee.get("total"), f"{where}.total", minimum=None)
        tax = amount(
            fee.get("total_tax"), f"{where}.total_tax", required=False, minimum=None
        )
        if include:
            price += tax
        if price:
            fees.append(
                Fee(
                    name=text(fee.get("name"), f"{where}.name") or "Fee",
                    amount=price,
                    taxable=bool(tax),
                )
            )
    return tuple(fees)


def woocommerce_order(payload):
    """WooCommerce gives line amounts without tax; when the shop's prices
    include tax the canonical prices do too, as the customer saw them."""
    data = _payload(payload)
    include = data.get("prices_include_tax", False)
    if not isinstance(include, bool):
        raise MappingError("prices_include_tax must be true or false.")
    coupons = ", ".join(
        text(c.get("code"), f"coupon_lines[{i}].code")
        for i, c in enumerate(items(data.get("coupon_lines"), "coupon_lines"))
    )
    lines = []
    for i, line in enumerate(items(data.get("line_items"), "line_items")):
        where = f"line_items[{i}]"
        quantity = amount(line.get("quantity"), f"{where}.quantity")
        gross = amount(line.get("subtotal"), f"{where}.subtotal")
        net = amount(line.get("total"), f"{where}.total")
        if include:
            gross += amount(
                line.get("subtotal_tax"), f"{where}.subtotal_tax", required=False
            )
            net += amount(line.get("total_tax"), f"{where}.total_tax", required=False)
        product_ref = line.get("variation_id") or line.get("product_id")
        lines.append(
            Line(
                sku=text(line.get("sku"), f"{where}.sku"),
                quantity=quantity,
                unit_price=gross / quantity if quantity else gross,
                name=text(line.get("name"), f"{where}.name"),
                external_id=text(line.get("id"), f"{where}.id"),
                product_ref=text(product_ref or "", f"{where}.product_id"),
                discount=gross - net,
                discount_label=coupons,
            )
        )
    shipping = []
    for i, ship in enumerate(items(data.get("shipping_lines"), "shipping_lines")):
        where = f"shipping_lines[{i}]"
        price = amount(ship.get("total"), f"{where}.total")
        if include:
            price += amount(ship.get("total_tax"), f"{where}.total_tax", required=False)
        shipping.append(
            Shipping(
                name=text(ship.get("method_title"), f"{where}.method_title")
                or "Shipping",
                price=price,
                code=text(ship.get("method_id"), f"{where}.method_id"),
            )
        )
    status = text(data.get("status"), "status") or "pending"
    if status not in WOO_STATUS:
        raise MappingError(f"status {status[:40]!r} is not a WooCommerce order status.")
    financial, state = WOO_STATUS[status]
    if financial == "pending" and data.get("date_paid_gmt") and state != "cancelled":
        financial = "paid"
    billing = _woo_address(data.get("billing"), "billing")
    customer_id = data.get("customer_id") or ""
    return Order(
        external_id=text(data.get("id"), "id", required=True, limit=64),
        name=text(data.get("number"), "number") or text(data.get("id"), "id"),
        currency=text(data.get("currency"), "currency", required=True, limit=3).upper(),
        total=amount(data.get("total"), "total"),
        lines=tuple(lines),
        prices_include_tax=include,
        financial_status=financial,
        status=state,
        customer=Customer(
            external_id=text(customer_id, "customer_id", limit=64),
            email=billing.email,
            name=billing.name,
            company=billing.company,
            phone=billing.phone,
        ),
        billing=billing,
        shipping_address=_woo_address(data.get("shipping"), "shipping"),
        shipping=tuple(shipping),
        fees=_woo_fees(data, include),
        updated_at=timestamp(data.get("date_modified_gmt"), "date_modified_gmt"),
        note=text(data.get("customer_note"), "customer_note", limit=4000),
    ).check()


ORDER_MAPPERS = {
    "generic": generic_order,
    "shopify": shopify_order,
    "woocommerce": woocommerce_order,
}
