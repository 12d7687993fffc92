"""setup/send_webhook.py reaches the demo where setup/demo.sh started it, signed
with the demo endpoint's secret. A local HTTP server stands in for the demo;
no Odoo server needed."""

import importlib.util
import json
import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "setup" / "send_webhook.py"
DEMO_ENDPOINT_XML = (
    ROOT / "addons/retail_integration_webhook/demo/retail_webhook_endpoint_demo.xml"
)


def load_script():
    spec = importlib.util.spec_from_file_location("send_webhook", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def demo_endpoint():
    """{field: value} of the demo endpoint record."""
    record = ET.parse(DEMO_ENDPOINT_XML).find(
        ".//record[@id='demo_endpoint_storefront']"
    )
    return {field.get("name"): field.text for field in record.iter("field")}


@pytest.fixture
def receiver():
    """A stand-in demo on a free port; ``.requests`` is what it got."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body))
            answer = json.dumps({"status": "accepted"}).encode()
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.requests = received
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run_script(*args, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RETAIL_DEMO_")}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_sends_to_the_demo_port_signed_with_the_demo_secret(receiver):
    port = receiver.server_address[1]
    result = run_script(RETAIL_DEMO_PORT=str(port))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("202 ")
    [(path, headers, body)] = receiver.requests
    endpoint = demo_endpoint()
    assert path == f"/retail/webhook/{endpoint['token']}"
    # The reference implementation accepts the signature with the secret the
    # demo endpoint has (raises otherwise).
    payload = Webhook(endpoint["secret"]).verify(body, headers)
    assert payload["type"] == "ping"


def test_url_overrides_the_demo(receiver):
    url = f"http://127.0.0.1:{receiver.server_address[1]}/retail/webhook/other"
    result = run_script("--url", url, RETAIL_DEMO_PORT="1")
    assert result.returncode == 0, result.stderr
    assert [r[0] for r in receiver.requests] == ["/retail/webhook/other"]


def test_demo_settings_come_from_the_demo_config(tmp_path):
    conf = tmp_path / "odoo-demo.conf"
    # Written as setup/demo.sh writes it.
    script = (
        'source setup/common.sh && retail_write_conf "$1" KEY '
        '"db_name = shop_demo" "http_port = 18123"'
    )
    subprocess.run(["bash", "-c", script, "-", str(conf)], cwd=ROOT, check=True)
    demo_settings = load_script().demo_settings
    assert demo_settings({}, conf) == ("18123", "shop_demo")
    env = {"RETAIL_DEMO_PORT": "18999", "RETAIL_DEMO_DB": "other"}
    assert demo_settings(env, conf) == ("18999", "other")
    assert demo_settings({}, tmp_path / "missing.conf") == ("8069", "retail_demo")


def test_unreachable_demo_says_so():
    result = run_script(RETAIL_DEMO_PORT="1", RETAIL_DEMO_DB="shop_demo")
    assert result.returncode == 2
    assert "cannot reach http://127.0.0.1:1/" in result.stderr
    assert "shop_demo" in result.stderr
