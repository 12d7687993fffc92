"""WooCommerce REST API v3 behaviour of the stand-in server for the outbound
calls: each route's handler takes (server, body, query parameters, *path
groups) and returns (status, payload, headers)."""


def _invalid(item_id):
    return {
        "id": item_id,
        "error": {
            "code": "woocommerce_rest_product_invalid_id",
            "message": "Invalid ID.",
            "data": {"status": 400},
        },
    }


def _update(product, values):
    for key, value in values.items():
        if key == "stock_quantity":
            value = int(value)
        product[key] = value
    return dict(product)


def products(server, body, params):
    items = sorted(server.woo_products.values(), key=lambda p: p["id"])
    if "sku" in params:
        skus = params["sku"].split(",")
        # With a SKU, variations are searched too (post types product and
        # product_variation).
        return 200, [dict(p) for p in items if p.get("sku") in skus], {}
    items = [p for p in items if not p.get("parent_id")]
    return _page(items, params)


def _page(items, params):
    per_page = min(int(params.get("per_page", 10)), 100)
    page = int(params.get("page", 1))
    pages = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    headers = {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)}
    return 200, [dict(p) for p in chunk], headers


def variations(server, body, params, parent):
    items = [
        p for p in server.woo_products.values() if str(p.get("parent_id")) == parent
    ]
    return _page(sorted(items, key=lambda p: p["id"]), params)


def _create(server, values, parent):
    """A new product (or variation of ``parent``), refused if its SKU is
    taken, as WooCommerce does."""
    sku = values.get("sku")
    if sku and any(p.get("sku") == sku for p in server.woo_products.values()):
        return {
            "id": 0,
            "error": {
                "code": "product_invalid_sku",
                "message": "Invalid or duplicated SKU.",
                "data": {"status": 400},
            },
        }
    product_id = max([900, *server.woo_products]) + 1
    product = {
        "id": product_id,
        "status": "publish",
        "manage_stock": False,
        "stock_quantity": None,
        **values,
        "parent_id": int(parent) if parent else 0,
    }
    if parent:
        product["name"] = server.woo_products[int(parent)]["name"]
    server.woo_products[product_id] = product
    return dict(product)


def products_batch(server, body, params, parent=None):
    updates = body.get("update") or []
    creates = body.get("create") or []
    if len(updates) + len(creates) > 100:
        return (
            413,
            {
                "code": "woocommerce_rest_request_entity_too_large",
                "message": "Unable to accept more than 100 items for this request.",
            },
            {},
        )
    answer = []
    for values in updates:
        product = server.woo_products.get(values.get("id"))
        same_parent = product and str(product.get("parent_id") or "") == (parent or "")
        if not same_parent:
            answer.append(_invalid(values.get("id")))
        else:
            answer.append(_update(product, values))
    if creates:
        created = [_create(server, values, parent) for values in creates]
        return 200, {"create": created, "update": answer}, {}
    return 200, {"update": answer}, {}


def variations_batch(server, body, params, parent):
    return products_batch(server, body, params, parent)


def orders_batch(server, body, params):
    answer = []
    for values in body.get("update") or []:
        order_id = values.get("id")
        if order_id not in server.woo_order_status:
            answer.append(
                {
                    "id": order_id,
                    "error": {
                        "code": "woocommerce_rest_shop_order_invalid_id",
                        "message": "Invalid ID.",
                        "data": {"status": 400},
                    },
                }
            )
            continue
        server.woo_order_status[order_id] = values.get("status")
        answer.append({"id": order_id, "status": values.get("status")})
    return 200, {"update": answer}, {}


def _no_order():
    return (
        404,
        {
            "code": "woocommerce_rest_shop_order_invalid_id",
            "message": "Invalid ID.",
        },
        {},
    )


def order(server, body, params, order_id):
    found = [o for o in server.woo_orders if str(o["id"]) == order_id]
    return (200, found[0], {}) if found else _no_order()


def order_notes(server, body, params, order_id):
    if int(order_id) not in server.woo_order_status:
        return _no_order()
    notes = server.woo_notes.setdefault(int(order_id), [])
    note = {
        "id": len(notes) + 1,
        "author": "system",
        "date_created": "2025-03-02T10:00:00",
        "date_created_gmt": "2025-03-02T10:00:00",
        "note": body["note"],
        "customer_note": bool(body.get("customer_note")),
    }
    notes.append(note)
    return 201, note, {}


def list_order_notes(server, body, params, order_id):
    """Every note of the order, newest first, in one answer (not paged);
    ``type``: any (default), customer or internal."""
    if int(order_id) not in server.woo_order_status:
        return _no_order()
    wanted = params.get("type", "any")
    notes = [
        dict(n)
        for n in reversed(server.woo_notes.get(int(order_id), []))
        if wanted == "any" or n["customer_note"] == (wanted == "customer")
    ]
    return 200, notes, {}


def order_refunds(server, body, params, order_id):
    """``GET orders/<id>/refunds``: the order's refunds, newest first, paged
    (10 a page by default). Line items and shipping lines carry negative
    quantities and totals; ``api_restock`` is write-only and not shown."""
    known = {str(o["id"]) for o in server.woo_orders} | set(
        map(str, server.woo_refunds)
    )
    if order_id not in known:
        return _no_order()
    refunds = sorted(
        server.woo_refunds.get(int(order_id), []), key=lambda r: -int(r["id"])
    )
    return _page(refunds, params)


def woo_refund(refund_id, amount, lines=(), shipping="0.00", reason=""):
    """A refund object as the API gives it: ``lines`` are (order line item,
    refunded quantity, refunded total before tax), given positive."""
    return {
        "id": refund_id,
        "date_created_gmt": "2025-03-02T09:00:00",
        "amount": amount,
        "reason": reason,
        "refunded_by": 1,
        "refunded_payment": True,
        "meta_data": [],
        "line_items": [
            {
                "id": 900 + index,
                "name": item["name"],
                "product_id": item["product_id"],
                "variation_id": item.get("variation_id", 0),
                "quantity": -quantity,
                "subtotal": f"-{total}",
                "subtotal_tax": "0.00",
                "total": f"-{total}",
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [{"key": "_refunded_item_id", "value": str(item["id"])}],
                "sku": item.get("sku", ""),
                "price": -float(total) / quantity if quantity else 0,
            }
            for index, (item, quantity, total) in enumerate(lines)
        ],
        "shipping_lines": [
            {
                "id": 950,
                "method_title": "Flat Rate",
                "method_id": "flat_rate",
                "total": f"-{shipping}",
                "total_tax": "0.00",
            }
        ]
        if shipping != "0.00"
        else [],
        "tax_lines": [],
        "fee_lines": [],
    }


def system_status(server, body, params):
    return 200, {"environment": {"version": "9.6.0", "site_url": "http://stand-in"}}, {}


WEBHOOK_STATUSES = ("active", "paused", "disabled")


def _webhook(hook):
    """A webhook as the API shows it: its secret is not given back."""
    return {k: v for k, v in hook.items() if k != "secret"}


def create_webhook(server, body, params):
    hook = {
        "id": max((h["id"] for h in server.woo_webhooks), default=0) + 1,
        "name": body.get("name") or "",
        "status": body.get("status") or "active",
        "topic": body["topic"],
        "delivery_url": body["delivery_url"],
        "secret": body.get("secret") or "",
    }
    server.woo_webhooks.append(hook)
    return 201, _webhook(hook), {}


def list_webhooks(server, body, params):
    status = params.get("status", "all")
    hooks = [h for h in server.woo_webhooks if status in ("all", h["status"])]
    per_page = min(int(params.get("per_page", 10)), server.page_size or 100)
    status_code, page, headers = _page(hooks, {**params, "per_page": per_page})
    return status_code, [_webhook(h) for h in page], headers


def _no_webhook():
    return (
        404,
        {
            "code": "woocommerce_rest_webhook_invalid_id",
            "message": "Invalid ID.",
            "data": {"status": 404},
        },
        {},
    )


def update_webhook(server, body, params, webhook_id):
    hook = next((h for h in server.woo_webhooks if h["id"] == int(webhook_id)), None)
    if hook is None:
        return _no_webhook()
    if body.get("status", hook["status"]) not in WEBHOOK_STATUSES:
        return (
            400,
            {"code": "rest_invalid_param", "message": "Invalid parameter(s): status"},
            {},
        )
    hook.update({k: v for k, v in body.items() if k != "id"})
    return 200, _webhook(hook), {}


def delete_webhook(server, body, params, webhook_id):
    """Only for good (``force=true``); answers the deleted webhook."""
    if params.get("force") not in ("true", "1"):
        return (
            501,
            {
                "code": "woocommerce_rest_trash_not_supported",
                "message": "Webhooks do not support trashing.",
                "data": {"status": 501},
            },
            {},
        )
    hook = next((h for h in server.woo_webhooks if h["id"] == int(webhook_id)), None)
    if hook is None:
        return _no_webhook()
    server.woo_webhooks.remove(hook)
    return 200, _webhook(hook), {}


ROUTES = (
    ("GET", r"products", products),
    ("GET", r"products/(\d+)/variations", variations),
    ("POST", r"products/batch", products_batch),
    ("POST", r"products/(\d+)/variations/batch", variations_batch),
    ("POST", r"orders/batch", orders_batch),
    ("GET", r"orders/(\d+)", order),
    ("GET", r"orders/(\d+)/notes", list_order_notes),
    ("GET", r"orders/(\d+)/refunds", order_refunds),
    ("POST", r"orders/(\d+)/notes", order_notes),
    ("GET", r"system_status", system_status),
    ("GET", r"webhooks", list_webhooks),
    ("POST", r"webhooks", create_webhook),
    ("PUT", r"webhooks/(\d+)", update_webhook),
    ("DELETE", r"webhooks/(\d+)", delete_webhook),
)
