"""Smoke tests against a real Odoo server with the suite installed."""

import requests


def jsonrpc(session, url, params):
    resp = session.post(
        url,
        json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
        timeout=30,
    )
    resp.raise_for_status()
    body = resp.json()
    assert "error" not in body, body.get("error")
    return body["result"]


def call_kw(session, base, model, method, args, kwargs=None):
    return jsonrpc(
        session,
        f"{base}/web/dataset/call_kw/{model}/{method}",
        {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
    )


def test_login_page(odoo_server):
    resp = requests.get(f"{odoo_server}/web/login", timeout=30)
    assert resp.status_code == 200
    assert "login" in resp.text


def test_admin_sees_retail_menu(odoo_server, odoo_db):
    session = requests.Session()
    info = jsonrpc(
        session,
        f"{odoo_server}/web/session/authenticate",
        {"db": odoo_db, "login": "admin", "password": "admin"},
    )
    assert info.get("uid"), info

    # The xmlid resolves to a top-level menu...
    data = call_kw(
        session, odoo_server, "ir.model.data", "search_read",
        [[["module", "=", "retail_integration"], ["name", "=", "menu_retail_root"],
          ["model", "=", "ir.ui.menu"]]],
        {"fields": ["res_id"]},
    )  # fmt: skip
    assert data, "xmlid retail_integration.menu_retail_root not found"
    menu_id = data[0]["res_id"]
    menus = call_kw(
        session, odoo_server, "ir.ui.menu", "search_read",
        [[["id", "=", menu_id]]], {"fields": ["name", "parent_id"]},
    )  # fmt: skip
    assert menus, "menu_retail_root is not visible to admin"
    assert menus[0]["parent_id"] is False
    assert menus[0]["name"] == "Retail Integration"

    # ...that the web client shows as an app.
    loaded = call_kw(session, odoo_server, "ir.ui.menu", "load_menus", [False])
    assert menu_id in loaded["root"]["children"]
