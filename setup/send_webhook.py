#!/usr/bin/env python3
"""Send a signed Standard Webhooks request, as a channel would.

    python3 setup/send_webhook.py                      # a ping to the demo endpoint
    python3 setup/send_webhook.py --type orders/create --data order.json \\
        --url http://127.0.0.1:8069/retail/webhook/<token> --secret whsec_...

Standard library only. Prints the HTTP status and Odoo's JSON answer.
"""

import argparse
import base64
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request
import uuid

DEMO_URL = "http://127.0.0.1:8069/retail/webhook/demo-shop-standard-webhooks"
DEMO_SECRET = "whsec_ZGVtby1zZWNyZXQtZm9yLXRoZS1yZXRhaWwtZGVtbw=="


def sign(secret, msg_id, timestamp, body):
    key = base64.b64decode(secret.removeprefix("whsec_") + "==")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return (
        "v1,"
        + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEMO_URL)
    parser.add_argument("--secret", default=DEMO_SECRET)
    parser.add_argument("--type", default="ping", help="event type (the topic)")
    parser.add_argument("--data", help="JSON file with the event's data object")
    parser.add_argument("--id", default=None, help="webhook-id (default: a new one)")
    args = parser.parse_args()

    data = json.load(open(args.data, encoding="utf-8")) if args.data else {}
    body = json.dumps(
        {"type": args.type, "timestamp": time.time(), "data": data}
    ).encode()
    msg_id = args.id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time())
    request = urllib.request.Request(
        args.url,
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
    print(status, answer)
    return 0 if status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
