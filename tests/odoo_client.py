"""Calling a running Odoo as its administrator, over JSON-RPC."""

import requests


class OdooClient:
    def __init__(self, url, db, login="admin", password="admin"):
        self.url = url
        self.session = requests.Session()
        response = self.session.post(
            f"{url}/web/session/authenticate",
            json={"params": {"db": db, "login": login, "password": password}},
            timeout=60,
        )
        response.raise_for_status()
        if response.json().get("error"):
            raise RuntimeError(f"cannot log in as {login}: {response.json()['error']}")

    def call(self, model, method, *args, **kwargs):
        response = self.session.post(
            f"{self.url}/web/dataset/call_kw",
            json={
                "params": {
                    "model": model,
                    "method": method,
                    "args": args,
                    "kwargs": kwargs,
                }
            },
            timeout=120,
        )
        body = response.json()
        if "error" in body:
            raise RuntimeError(body["error"]["data"]["message"])
        return body["result"]
