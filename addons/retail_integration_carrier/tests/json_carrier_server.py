"""A local carrier implementing the generic JSON carrier contract
(lib/json_adapter.py, readme/CONFIGURE.md), as a 3PL would: idempotency keys
on shipment creation, address checks, Retry-After on 429. Plain Python."""

import base64
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

TOKEN = "json-carrier-token"
LABEL = b"%PDF-1.4\n% json carrier label\n%%EOF\n"


class JsonCarrierServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.shipments = {}  # id -> shipment
        self.keys = {}  # idempotency key -> id
        self.requests = []
        # [(method, path regex, action)]: 503, 429, "lost", "hostile",
        # "redirect", {field: value} merged into the answer, [{field: value}]
        # merged into each rate
        self.script = []
        self.created = 0
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/api"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()

    def forced(self, method, path):
        with self.lock:
            for n, (m, pattern, action) in enumerate(self.script):
                if m == method and re.search(pattern, path):
                    del self.script[n]
                    return action
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def _send(self, status, payload, headers=None):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status, code, message, headers=None):
        self._send(status, {"error": {"code": code, "message": message}}, headers)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method):
        path = urlparse(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        server = self.server
        server.requests.append((method, path, body, dict(self.headers)))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._error(401, "unauthorized", "Unknown API token.")
        action = server.forced(method, path)
        if action == 503:
            return self._error(503, "unavailable", "Down for maintenance.")
        if action == 429:
            return self._error(
                429, "rate_limited", "Slow down.", {"Retry-After": "120"}
            )
        with server.lock:
            status, payload = self._route(method, path, body)
        if action == "lost":
            return self._error(500, "internal", "Internal error.")
        if action == "redirect":  # to an address of the server's own network
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/internal")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if isinstance(action, dict):  # fields of the answer replaced
            return self._send(status, {**payload, **action})
        if isinstance(action, list):  # each rate's fields replaced
            rates = [
                {**rate, **change}
                for rate, change in zip(payload["rates"], action, strict=False)
            ]
            return self._send(status, {**payload, "rates": rates})
        if action == "hostile":  # a label that is not base64, an unknown field
            payload = dict(payload, labels=[{"format": "PDF", "content": "%%%"}])
            return self._send(status, {**payload, "unexpected": ["x"] * 1000})
        return self._send(status, payload)

    def _route(self, method, path, body):
        server = self.server
        if method == "POST" and path == "/api/rates":
            rates = [("Standard", "5.90", 2), ("Express", "12.50", 1)]
            return 200, {
                "rates": [
                    {
                        "carrier": "RegioPost",
                        "service": service,
                        "amount": amount,
                        "currency": "EUR",
                        "days": days,
                    }
                    for service, amount, days in rates
                ]
            }
        if method == "POST" and path == "/api/addresses/verify":
            address = body.get("address") or {}
            if not address.get("zip"):
                return 200, {
                    "valid": False,
                    "messages": ["The postal code is missing."],
                }
            return 200, {"valid": True}
        if method == "POST" and path == "/api/shipments":
            key = self.headers.get("Idempotency-Key")
            if not key:
                return 400, {
                    "error": {
                        "code": "idempotency_key_required",
                        "message": "Send an Idempotency-Key.",
                    }
                }
            if key in server.keys:
                return 200, server.shipments[server.keys[key]]
            shipment = body.get("shipment") or {}
            if not (shipment.get("to") or {}).get("street1"):
                return 422, {
                    "error": {
                        "code": "address_invalid",
                        "message": "The street is missing.",
                    }
                }
            server.created += 1
            shipment_id = f"S{uuid.uuid4().hex[:10]}"
            number = f"RP{uuid.uuid4().int % 10**12:012d}"
            fmt = shipment.get("label_format") or "PDF"
            server.shipments[shipment_id] = {
                "id": shipment_id,
                "tracking_number": number,
                "tracking_url": None,
                "amount": "5.90",
                "currency": "EUR",
                "labels": [
                    {"format": fmt, "content": base64.b64encode(LABEL).decode()}
                ],
                "request": shipment,
                "status": "pre_transit",
            }
            server.keys[key] = shipment_id
            return 201, server.shipments[shipment_id]
        match = re.match(r"^/api/shipments/(\w+)(/cancel|/tracking)?$", path)
        if match and match.group(1) in server.shipments:
            shipment = server.shipments[match.group(1)]
            if method == "POST" and match.group(2) == "/cancel":
                shipment["status"] = "cancelled"
                return 200, {"id": shipment["id"], "status": "cancelled"}
            if method == "GET" and match.group(2) == "/tracking":
                return 200, {
                    "tracking_number": shipment["tracking_number"],
                    "status": "in_transit",
                    "events": [
                        {
                            "status": "in_transit",
                            "occurred_at": "2025-03-01T10:00:00Z",
                            "location": "Lyon",
                            "message": "Sorted",
                        }
                    ],
                }
            if method == "GET" and not match.group(2):
                return 200, shipment
        return 404, {"error": {"code": "not_found", "message": "Not found."}}
