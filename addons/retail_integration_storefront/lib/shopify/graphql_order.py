"""A Shopify GraphQL ``Order`` node in the REST shape of the ``orders/*``
webhooks, so that one mapper reads both and ids stay the same."""


def _money(value):
    return ((value or {}).get("shopMoney") or {}).get("amount")


def _rest_money(value):
    """A GraphQL ``MoneyBag`` as the REST ``*_set`` it stands for (or None)."""
    return value and {"shop_money": {"amount": _money(value)}}


def _rest_address(address):
    if not address:
        return None
    return {
        "name": address.get("name"),
        "first_name": address.get("firstName"),
        "last_name": address.get("lastName"),
        "company": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "zip": address.get("zip"),
        "province_code": address.get("provinceCode"),
        "country_code": address.get("countryCodeV2"),
        "phone": address.get("phone"),
    }


def _rest_allocations(entry, applications):
    allocations = []
    for alloc in entry.get("discountAllocations") or []:
        app = alloc.get("discountApplication") or {}
        label = app.get("code") or app.get("title") or ""
        if label not in applications:
            applications.append(label)
        allocations.append(
            {
                "amount": _money(alloc.get("allocatedAmountSet")),
                "discount_application_index": applications.index(label),
            }
        )
    return allocations


def shopify_graphql_order(node):
    """A GraphQL ``Order`` node in the shape of the ``orders/*`` webhooks, so
    that one mapper reads both and ids stay the same."""
    applications = []
    customer = node.get("customer")
    lines = [
        {
            "id": (item.get("id") or "").rsplit("/", 1)[-1],
            "name": item.get("name"),
            "sku": item.get("sku"),
            "quantity": item.get("quantity"),
            "variant_id": (item.get("variant") or {}).get("legacyResourceId"),
            "price": _money(item.get("originalUnitPriceSet")),
            "discount_allocations": _rest_allocations(item, applications),
        }
        for item in ((node.get("lineItems") or {}).get("nodes") or [])
    ]
    shipping = [
        {
            "title": ship.get("title"),
            "code": ship.get("code"),
            "price": _money(ship.get("originalPriceSet")),
            "discount_allocations": _rest_allocations(ship, applications),
        }
        for ship in ((node.get("shippingLines") or {}).get("nodes") or [])
    ]
    return {
        "id": node.get("legacyResourceId"),
        "name": node.get("name"),
        "email": node.get("email"),
        "note": node.get("note"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "closed_at": node.get("closedAt"),
        "financial_status": (node.get("displayFinancialStatus") or "pending").lower(),
        "taxes_included": bool(node.get("taxesIncluded")),
        "currency": node.get("currencyCode"),
        "total_price": _money(node.get("totalPriceSet")),
        "total_tip_received": _money(node.get("totalTipReceivedSet")),
        "original_total_duties_set": _rest_money(node.get("originalTotalDutiesSet")),
        "current_total_duties_set": _rest_money(node.get("currentTotalDutiesSet")),
        "customer": customer
        and {
            "id": customer.get("legacyResourceId"),
            "email": customer.get("email"),
            "first_name": customer.get("firstName"),
            "last_name": customer.get("lastName"),
            "phone": customer.get("phone"),
        },
        "billing_address": _rest_address(node.get("billingAddress")),
        "shipping_address": _rest_address(node.get("shippingAddress")),
        "line_items": lines,
        "shipping_lines": shipping,
        "discount_applications": [{"code": label} for label in applications],
    }
