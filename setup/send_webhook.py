#!/usr/bin/env python3
"""Send a signed Standard Webhooks request, as a channel would.

    python3 setup/send_webhook.py                      # a ping to the demo endpoint
    python3 setup/send_webhook.py --type orders/create --data order.json \\
        --url http://127.0.0.1:8069/retail/webhook/<token> --secret whsec_...

Without --url it posts to the demo's endpoint, on the demo's port:
RETAIL_DEMO_PORT, else the port of the last ./setup/demo.sh run (its
.local/odoo-demo.conf), else 8069. Standard library only. Prints the HTTP
status and Odoo's JSON answer.
"""

import argparse
import base64
import configparser
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

# The demo endpoint's token and secret (retail_integration_webhook demo data).
DEMO_TOKEN = "demo-shop-standard-webhooks"
DEMO_SECRET = "whsec_ZGVtby1zZWNyZXQtZm9yLXRoZS1yZXRhaWwtZGVtbw=="
DEMO_CONF = Path(__file__).resolve().parent.parent / ".local" / "odoo-demo.conf"


def demo_settings(environ=os.environ, conf_path=DEMO_CONF):
    """(port, database) of the demo, as setup/demo.sh picks them."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(conf_path)  # a missing or unreadable file reads as empty
    options = parser["options"] if parser.has_section("options") else {}
    port = environ.get("RETAIL_DEMO_PORT") or options.get("http_port") or "8069"
    db = environ.get("RETAIL_DEMO_DB") or options.get("db_name") or "retail_demo"
    return port, db


def sign(secret, msg_id, timestamp, body):
    key = base64.b64decode(secret.removeprefix("whsec_") + "==")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return (
        "v1,"
        + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="endpoint URL (default: the demo's)")
    parser.add_argument("--secret", default=DEMO_SECRET)
    parser.add_argument("--type", default="ping", help="event type (the topic)")
    parser.add_argument("--data", help="JSON file with the event's data object")
    parser.add_argument("--id", default=None, help="webhook-id (default: a new one)")
    args = parser.parse_args()
    port, db = demo_settings()
    url = args.url or f"http://127.0.0.1:{port}/retail/webhook/{DEMO_TOKEN}"

    data = json.load(open(args.data, encoding="utf-8")) if args.data else {}
    body = json.dumps(
        {"type": args.type, "timestamp": time.time(), "data": data}
    ).encode()
    msg_id = args.id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time())
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(args.secret, msg_id, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer = response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        status, answer = err.code, err.read().decode()
    except urllib.error.URLError as err:
        hint = "" if args.url else f" (is the demo of database {db} running?)"
        print(f"cannot reach {url}: {err.reason}{hint}", file=sys.stderr)
        return 2
    print(status, answer)
    return 0 if status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
