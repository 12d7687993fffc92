"""The suite's documented canonical order JSON (readme/USAGE.md) → canonical
:class:`Order`."""

from odoo.addons.retail_integration.lib.canonical import (
    FINANCIAL_STATES,
    ORDER_STATES,
    Address,
    Customer,
    Fee,
    Line,
    Order,
    Shipping,
)
from odoo.addons.retail_integration.lib.parsing import (
    parse_amount,
    parse_bool,
    parse_choice,
    parse_list,
    parse_object,
    parse_text,
    parse_timestamp,
)


def _generic_address(data, where):
    data = parse_object(data, where)
    return Address(
        name=parse_text(data.get("name"), f"{where}.name"),
        company=parse_text(data.get("company"), f"{where}.company"),
        street=parse_text(data.get("street"), f"{where}.street"),
        street2=parse_text(data.get("street2"), f"{where}.street2"),
        city=parse_text(data.get("city"), f"{where}.city"),
        zip=parse_text(data.get("zip"), f"{where}.zip"),
        state_code=parse_text(data.get("state_code"), f"{where}.state_code"),
        country_code=parse_text(data.get("country_code"), f"{where}.country_code"),
        phone=parse_text(data.get("phone"), f"{where}.phone"),
        email=parse_text(data.get("email"), f"{where}.email"),
    )


def _generic_fees(data):
    """Fees (negative ones are credits), tax included when the order's prices
    include it, like its other amounts; fees of zero are left out."""
    fees = []
    for i, fee in enumerate(parse_list(data.get("fees"), "fees")):
        where = f"fees[{i}]"
        taxable = parse_bool(fee.get("taxable", False), f"{where}.taxable")
        fees.append(
            Fee(
                name=parse_text(fee.get("name"), f"{where}.name") or "Fee",
                amount=parse_amount(fee.get("amount"), f"{where}.amount", minimum=None),
                taxable=taxable,
            )
        )
    return tuple(fee for fee in fees if fee.amount)


def generic_order(payload):
    data = parse_object(payload, "The order", required=True)
    name = parse_text(data.get("name"), "name") or parse_text(
        data.get("id"), "id", required=True
    )
    customer = parse_object(data.get("customer"), "customer")
    lines = tuple(
        Line(
            sku=parse_text(line.get("sku"), f"lines[{i}].sku"),
            quantity=parse_amount(line.get("quantity"), f"lines[{i}].quantity"),
            unit_price=parse_amount(line.get("unit_price"), f"lines[{i}].unit_price"),
            name=parse_text(line.get("name"), f"lines[{i}].name"),
            external_id=parse_text(line.get("id"), f"lines[{i}].id"),
            product_ref=parse_text(line.get("product_id"), f"lines[{i}].product_id"),
            discount=parse_amount(
                line.get("discount"), f"lines[{i}].discount", required=False
            ),
            discount_label=parse_text(
                line.get("discount_code"), f"lines[{i}].discount_code"
            ),
        )
        for i, line in enumerate(parse_list(data.get("lines"), "lines"))
    )
    shipping = tuple(
        Shipping(
            name=parse_text(ship.get("name"), f"shipping[{i}].name") or "Shipping",
            price=parse_amount(ship.get("price"), f"shipping[{i}].price"),
            code=parse_text(ship.get("code"), f"shipping[{i}].code"),
            discount=parse_amount(
                ship.get("discount"), f"shipping[{i}].discount", required=False
            ),
        )
        for i, ship in enumerate(parse_list(data.get("shipping"), "shipping"))
    )
    prices_include_tax = parse_bool(
        data.get("prices_include_tax", False), "prices_include_tax"
    )
    return Order(
        external_id=parse_text(data.get("id"), "id", required=True, limit=64),
        name=name,
        currency=parse_text(
            data.get("currency"), "currency", required=True, limit=3
        ).upper(),
        total=parse_amount(data.get("total"), "total"),
        lines=lines,
        prices_include_tax=prices_include_tax,
        financial_status=parse_choice(
            data.get("financial_status"),
            "financial_status",
            FINANCIAL_STATES,
            "pending",
        ),
        status=parse_choice(data.get("status"), "status", ORDER_STATES, "open"),
        customer=Customer(
            external_id=parse_text(customer.get("id"), "customer.id", limit=64),
            email=parse_text(customer.get("email"), "customer.email"),
            name=parse_text(customer.get("name"), "customer.name"),
            company=parse_text(customer.get("company"), "customer.company"),
            phone=parse_text(customer.get("phone"), "customer.phone"),
        ),
        billing=_generic_address(data.get("billing_address"), "billing_address"),
        shipping_address=_generic_address(
            data.get("shipping_address"), "shipping_address"
        ),
        shipping=shipping,
        fees=_generic_fees(data),
        updated_at=parse_timestamp(data.get("updated_at"), "updated_at"),
        note=parse_text(data.get("note"), "note", limit=4000),
        gateway=parse_text(data.get("payment_gateway"), "payment_gateway", limit=64),
    ).check()
