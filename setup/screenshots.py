#!/usr/bin/env python3
"""Take the README's screenshots (docs/*.png) from a running demo.

    .venv/bin/python setup/screenshots.py     # the demo ./setup/demo.sh started

Logs in as admin / admin, opens each screen in headless Chromium at 1400x800
and saves it into docs/. The demo is found as setup/send_webhook.py finds it
(RETAIL_DEMO_PORT / RETAIL_DEMO_DB, else the last demo's config); --url and
--db override. Needs requests and websocket-client (both in the project venv).
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import websocket
from send_webhook import demo_settings

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1400, 800)
# (file, URL path, a selector present once the screen has loaded)
SCREENS = [
    (
        "exceptions.png",
        "/odoo/action-retail_integration.retail_sync_exception_action",
        ".o_list_renderer .o_data_row",
    ),
    (
        "endpoint.png",
        "/odoo/action-retail_integration_webhook.retail_webhook_endpoint_action/"
        "{demo_endpoint}",
        ".o_form_renderer .o_field_widget[name=url]",
    ),
    (
        "monitoring_dashboard.png",
        "/odoo/action-retail_integration_monitoring.retail_monitor_flow_action",
        ".o_kanban_record .o_retail_sparkline",
    ),
]


def jsonrpc(session, url, params):
    answer = session.post(url, json={"jsonrpc": "2.0", "params": params}, timeout=30)
    answer.raise_for_status()
    body = answer.json()
    if "error" in body:
        sys.exit(f"{url}: {body['error']['data']['message']}")
    return body["result"]


def login(base, db):
    """A session cookie of admin, and the ids the screens' URLs need."""
    session = requests.Session()
    auth = {"db": db, "login": "admin", "password": "admin"}
    jsonrpc(session, f"{base}/web/session/authenticate", auth)
    [endpoint] = jsonrpc(
        session,
        f"{base}/web/dataset/call_kw",
        {
            "model": "ir.model.data",
            "method": "search_read",
            "args": [
                [
                    ("module", "=", "retail_integration_webhook"),
                    ("name", "=", "demo_endpoint_storefront"),
                ]
            ],
            "kwargs": {"fields": ["res_id"]},
        },
    )
    # The monitoring dashboard shows what was measured: measure it now.
    jsonrpc(
        session,
        f"{base}/web/dataset/call_kw",
        {
            "model": "retail.monitor.flow",
            "method": "action_refresh_all",
            "args": [[]],
            "kwargs": {},
        },
    )
    return session.cookies["session_id"], {"demo_endpoint": endpoint["res_id"]}


class Tab:
    """The one page of a headless Chromium, driven by the DevTools protocol."""

    def __init__(self, chrome, user_data_dir):
        args = [
            chrome,
            "--headless=new",
            "--remote-debugging-port=0",
            f"--user-data-dir={user_data_dir}",
            "--hide-scrollbars",
            f"--window-size={SIZE[0]},{SIZE[1]}",
            "about:blank",
        ]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root
        self.process = subprocess.Popen(args, stderr=subprocess.DEVNULL)
        port = self._devtools_port(Path(user_data_dir) / "DevToolsActivePort")
        pages = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page = next(p for p in pages if p["type"] == "page")
        self.ws = websocket.create_connection(
            page["webSocketDebuggerUrl"], suppress_origin=True
        )
        self.last_id = 0

    def _devtools_port(self, port_file, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if port_file.is_file() and port_file.read_text().strip():
                return int(port_file.read_text().split()[0])
            if self.process.poll() is not None:
                sys.exit("Chromium exited at start-up")
            time.sleep(0.2)
        self.process.kill()
        sys.exit("Chromium did not open its DevTools port")

    def call(self, method, **params):
        self.last_id += 1
        self.ws.send(
            json.dumps({"id": self.last_id, "method": method, "params": params})
        )
        while True:  # skip the events until our answer
            message = json.loads(self.ws.recv())
            if message.get("id") == self.last_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def wait_for(self, selector, timeout=30):
        expression = f"!!document.querySelector({json.dumps(selector)})"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.call("Runtime.evaluate", expression=expression)
            if found["result"].get("value"):
                time.sleep(1)  # let the last requests and fonts settle
                return
            time.sleep(0.3)
        sys.exit(f"{selector!r} did not appear within {timeout} s")

    def close(self):
        self.call("Browser.close")
        self.ws.close()
        self.process.wait(10)


def main():
    port, db = demo_settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=f"http://127.0.0.1:{port}")
    parser.add_argument("--db", default=db)
    parser.add_argument("--out", default=str(ROOT / "docs"))
    args = parser.parse_args()
    chrome = shutil.which("chromium") or shutil.which("google-chrome")
    if not chrome:
        sys.exit("no chromium or google-chrome on PATH")

    session_id, ids = login(args.url, args.db)
    with tempfile.TemporaryDirectory() as user_data_dir:
        tab = Tab(chrome, user_data_dir)
        try:
            tab.call(
                "Emulation.setDeviceMetricsOverride",
                width=SIZE[0],
                height=SIZE[1],
                deviceScaleFactor=1,
                mobile=False,
            )
            tab.call(
                "Network.setCookie", name="session_id", value=session_id, url=args.url
            )
            for name, path, ready in SCREENS:
                tab.call("Page.navigate", url=args.url + path.format(**ids))
                tab.wait_for(ready)
                shot = tab.call("Page.captureScreenshot", format="png")
                Path(args.out, name).write_bytes(base64.b64decode(shot["data"]))
                print(Path(args.out, name))
        finally:
            tab.close()


if __name__ == "__main__":
    main()
