"""A local stand-in for EasyPost's API v2 (https://docs.easypost.com),
answering as its documentation says for what the connector uses: addresses
(with verification), shipments (create with rates, retrieve, buy, label
format, refund), trackers (retrieve), label files; errors in EasyPost's shape
({"error": {"code", "message", "errors"}}), Bearer or Basic authentication.

Plain Python (no Odoo): the tests, the system test, the benchmark and
demo.sh (``python easypost_server.py --port 8390``) run it.

``script`` forces answers, one entry per request matched: ``(method, path
regex, action)`` with action ``503``/``500``/``429`` (answered before any
work), ``"html"`` (a proxy's 502 page) or ``"lost"`` (the work is done, then
500 is answered)."""

import argparse
import base64
import io
import json
import re
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

API_KEY = "EZTKtest0000000000000000000000"


def _label_pdf():
    """A 4×6 in label, a real PDF (as EasyPost's are)."""
    try:
        from reportlab.pdfgen import canvas
    except ImportError:  # the stand-in runs without Odoo's requirements too
        return b"%PDF-1.4\n% stand-in label\n%%EOF\n"
    buffer = io.BytesIO()
    label = canvas.Canvas(buffer, pagesize=(288, 432), invariant=1)
    label.drawString(24, 400, "USPS PRIORITY MAIL - stand-in label")
    label.showPage()
    label.save()
    return buffer.getvalue()


PDF = _label_pdf()
ZPL = b"^XA^FO50,50^ADN,36,20^FDStand-in label^FS^XZ\n"
RATES = [("USPS", "Priority", "7.58", 2), ("USPS", "Express", "26.80", 1),
         ("UPS", "Ground", "9.43", 4)]  # fmt: skip
# A street the stand-in's verification does not know (as EasyPost answers
# an address it cannot find).
UNDELIVERABLE = "unknown street"


def _now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id(prefix):
    return f"{prefix}_{uuid.uuid4().hex}"


class EasyPostServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port=0, api_key=API_KEY):
        super().__init__(("127.0.0.1", port), _Handler)
        self.api_key = api_key
        self.lock = threading.Lock()
        self.shipments = {}
        self.trackers = {}
        self.addresses = {}
        self.requests = []  # (method, path, body)
        self.script = []  # [(method, path regex, action)]
        self.buys = 0  # labels bought (the count a double purchase raises)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def api_base(self):
        return f"{self.url}/v2"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def calls(self, method, pattern):
        return [r for r in self.requests if r[0] == method and re.search(pattern, r[1])]

    def forced(self, method, path):
        with self.lock:
            for n, (m, pattern, action) in enumerate(self.script):
                if m == method and re.search(pattern, path):
                    del self.script[n]
                    return action
        return None

    def set_tracking(self, tracker_id, status, details):
        tracker = self.trackers[tracker_id]
        tracker.update(status=status, tracking_details=details, updated_at=_now())
        return tracker


def _address(data, verify=False):
    address = {
        "id": _id("adr"),
        "object": "Address",
        "mode": "test",
        **{k: data.get(k) for k in ("name", "company", "street1", "street2", "city",
                                     "state", "zip", "country", "phone", "email")},
    }  # fmt: skip
    if verify:
        street = (data.get("street1") or "").lower()
        if not street or UNDELIVERABLE in street:
            address["verifications"] = {
                "delivery": {
                    "success": False,
                    "errors": [
                        {
                            "code": "E.ADDRESS.NOT_FOUND",
                            "field": "address",
                            "message": "Address not found",
                            "suggestion": None,
                        }
                    ],
                    "details": None,
                }
            }
        else:
            address["verifications"] = {
                "delivery": {"success": True, "errors": [], "details": {}}
            }
    return address


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def _send(self, status, payload, content_type="application/json", headers=None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status, code, message, errors=None):
        self._send(
            status,
            {"error": {"code": code, "message": message, "errors": errors or []}},
        )

    def _authorized(self):
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header[7:] == self.server.api_key
        if header.startswith("Basic "):
            user = base64.b64decode(header[6:]).decode().split(":")[0]
            return user == self.server.api_key
        return False

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method):
        path = urlparse(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self._error(400, "BAD_REQUEST", "The request body is not JSON.")
        server = self.server
        server.requests.append((method, path, body))
        if path.startswith("/labels/"):
            return self._label(path)
        if not self._authorized():
            return self._error(401, "APIKEY.REQUIRED", "Invalid API key.")
        action = server.forced(method, path)
        if action in (500, 503):
            return self._error(action, "INTERNAL_SERVER_ERROR", "Service unavailable.")
        if action == 429:
            return self._error(429, "RATE_LIMITED", "Too many requests.")
        if action == "html":  # a proxy's error page, not EasyPost's JSON
            page = b"<html><body>Bad Gateway</body></html>"
            return self._send(502, page, "text/html")
        routes = [
            ("POST", r"^/v2/addresses$", self._create_address),
            ("POST", r"^/v2/shipments$", self._create_shipment),
            ("GET", r"^/v2/shipments/(shp_\w+)$", self._get_shipment),
            ("POST", r"^/v2/shipments/(shp_\w+)/buy$", self._buy),
            ("GET", r"^/v2/shipments/(shp_\w+)/label$", self._label_format),
            ("POST", r"^/v2/shipments/(shp_\w+)/refund$", self._refund),
            ("GET", r"^/v2/trackers/(trk_\w+)$", self._get_tracker),
        ]
        for route_method, pattern, handler in routes:
            match = re.match(pattern, path)
            if route_method == method and match:
                with server.lock:
                    status, payload = handler(body, *match.groups())
                if action == "lost":
                    return self._error(500, "INTERNAL_SERVER_ERROR", "Internal error.")
                return self._send(status, payload)
        return self._error(
            404, "NOT_FOUND", "The requested resource could not be found."
        )

    def _label(self, path):
        if path.endswith(".zpl"):
            return self._send(200, ZPL, "application/zpl")
        return self._send(200, PDF, "application/pdf")

    def _create_address(self, body):
        data = body.get("address") or {}
        verify = body.get("verify") or data.get("verify")
        address = _address(data, verify=bool(verify))
        self.server.addresses[address["id"]] = address
        return 201, address

    def _create_shipment(self, body):
        data = body.get("shipment")
        if not isinstance(data, dict):
            return 422, {
                "error": {
                    "code": "PARAMETER.REQUIRED",
                    "message": "Missing shipment.",
                    "errors": [],
                }
            }
        to = data.get("to_address") or {}
        parcel = data.get("parcel") or {}
        missing = [f for f in ("street1", "city", "country") if not to.get(f)]
        if missing:
            return 422, {
                "error": {
                    "code": "ADDRESS.VERIFY.FAILURE",
                    "message": "Unable to verify address.",
                    "errors": [
                        {"field": f, "message": "cannot be blank"} for f in missing
                    ],
                }
            }
        if not parcel.get("weight"):
            return 422, {
                "error": {
                    "code": "PARCEL.WEIGHT.INVALID",
                    "message": "Parcel weight is required.",
                    "errors": [],
                }
            }
        shipment_id = _id("shp")
        international = (to.get("country") or "US") != (
            (data.get("from_address") or {}).get("country") or "US"
        )
        if international and not data.get("customs_info"):
            return 422, {
                "error": {
                    "code": "SHIPMENT.CUSTOMS.MISSING",
                    "message": "Customs info is required for international shipments.",
                    "errors": [],
                }
            }
        shipment = {
            "id": shipment_id,
            "object": "Shipment",
            "mode": "test",
            "reference": data.get("reference"),
            "status": "unknown",
            "is_return": bool(data.get("is_return")),
            "to_address": _address(to),
            "from_address": _address(data.get("from_address") or {}),
            "parcel": {"id": _id("prcl"), "object": "Parcel", **parcel},
            "customs_info": {
                "id": _id("cstinfo"),
                "object": "CustomsInfo",
                **data["customs_info"],
            }
            if data.get("customs_info")
            else None,
            "options": data.get("options") or {},
            "rates": [
                {
                    "id": _id("rate"),
                    "object": "Rate",
                    "shipment_id": shipment_id,
                    "carrier": carrier,
                    "service": service,
                    "rate": amount,
                    "currency": "USD",
                    "delivery_days": days,
                }
                for carrier, service, amount, days in RATES
            ],  # fmt: skip
            "selected_rate": None,
            "postage_label": None,
            "tracking_code": None,
            "tracker": None,
            "insurance": None,
            "refund_status": None,
            "messages": [],
            "created_at": _now(),
        }
        self.server.shipments[shipment_id] = shipment
        return 201, shipment

    def _get_shipment(self, body, shipment_id):
        shipment = self.server.shipments.get(shipment_id)
        if not shipment:
            return 404, {
                "error": {
                    "code": "NOT_FOUND",
                    "message": "The requested resource could not be found.",
                    "errors": [],
                }
            }
        return 200, shipment

    def _buy(self, body, shipment_id):
        shipment = self.server.shipments.get(shipment_id)
        if not shipment:
            return 404, {
                "error": {
                    "code": "NOT_FOUND",
                    "message": "The requested resource could not be found.",
                    "errors": [],
                }
            }
        if shipment["postage_label"]:
            return 422, {
                "error": {
                    "code": "SHIPMENT.POSTAGE.EXISTS",
                    "message": "Postage already exists for this shipment.",
                    "errors": [],
                }
            }
        rate_id = (body.get("rate") or {}).get("id")
        rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
        if not rate:
            return 422, {
                "error": {
                    "code": "SHIPMENT.RATE.INVALID",
                    "message": "Invalid rate.",
                    "errors": [],
                }
            }
        self.server.buys += 1
        code = f"9400{uuid.uuid4().int % 10**18:018d}"
        tracker_id = _id("trk")
        label_format = (shipment["options"].get("label_format") or "PNG").upper()
        tracker = {
            "id": tracker_id, "object": "Tracker", "mode": "test",
            "tracking_code": code, "status": "pre_transit", "carrier": rate["carrier"],
            "shipment_id": shipment_id, "tracking_details": [],
            "public_url": f"https://track.easypost.com/{tracker_id}",
            "created_at": _now(), "updated_at": _now(),
        }  # fmt: skip
        self.server.trackers[tracker_id] = tracker
        base = self.server.url
        shipment.update(
            selected_rate=rate,
            tracking_code=code,
            tracker=tracker,
            status="pre_transit",
            insurance=body.get("insurance"),
            postage_label={
                "id": _id("pl"),
                "object": "PostageLabel",
                "label_file_type": "application/pdf"
                if label_format == "PDF"
                else "image/png",
                "label_url": f"{base}/labels/{shipment_id}.png",
                "label_pdf_url": f"{base}/labels/{shipment_id}.pdf"
                if label_format == "PDF"
                else None,
                "label_zpl_url": f"{base}/labels/{shipment_id}.zpl"
                if label_format == "ZPL"
                else None,
            },
        )
        return 200, shipment

    def _label_format(self, body, shipment_id):
        shipment = self.server.shipments.get(shipment_id)
        if not shipment or not shipment["postage_label"]:
            return 422, {
                "error": {
                    "code": "SHIPMENT.POSTAGE.REQUIRED",
                    "message": "No postage for this shipment.",
                    "errors": [],
                }
            }
        query = urlparse(self.path).query
        fmt = "zpl" if "ZPL" in query.upper() else "pdf"
        shipment["postage_label"][f"label_{fmt}_url"] = (
            f"{self.server.url}/labels/{shipment_id}.{fmt}"
        )
        return 200, shipment

    def _refund(self, body, shipment_id):
        shipment = self.server.shipments.get(shipment_id)
        if not shipment or not shipment["postage_label"]:
            return 422, {
                "error": {
                    "code": "SHIPMENT.REFUND.INVALID",
                    "message": "Unable to refund a shipment without postage.",
                    "errors": [],
                }
            }
        shipment["refund_status"] = "submitted"
        return 200, shipment

    def _get_tracker(self, body, tracker_id):
        tracker = self.server.trackers.get(tracker_id)
        if not tracker:
            return 404, {
                "error": {
                    "code": "NOT_FOUND",
                    "message": "The requested resource could not be found.",
                    "errors": [],
                }
            }
        return 200, tracker


def tracker_event(tracker, event_id=None):
    """The body EasyPost POSTs for a tracker.updated event (bytes)."""
    return json.dumps(
        {
            "id": event_id or _id("evt"),
            "object": "Event",
            "mode": "test",
            "description": "tracker.updated",
            "previous_attributes": {},
            "pending_urls": [],
            "completed_urls": [],
            "created_at": _now(),
            "updated_at": _now(),
            "result": tracker,
        }
    ).encode()


def detail(status, moment, message="", city="Memphis"):
    return {
        "object": "TrackingDetail",
        "message": message or status.replace("_", " ").capitalize(),
        "status": status,
        "status_detail": status,
        "datetime": moment,
        "source": "USPS",
        "tracking_location": {
            "object": "TrackingLocation",
            "city": city,
            "state": "TN",
            "country": "US",
            "zip": None,
        },
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="EasyPost API stand-in")
    parser.add_argument("--port", type=int, default=8390)
    parser.add_argument("--api-key", default="EZTKdemo0000000000000000000000")
    args = parser.parse_args()
    server = EasyPostServer(args.port, args.api_key).start()
    sys.stdout.write(f"EasyPost stand-in on {server.api_base}\n")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
