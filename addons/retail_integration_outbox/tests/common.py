"""A local receiver that verifies with the Standard Webhooks reference library,
and a case with a subscription pointing at it. Other modules' tests import them."""

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from odoo.tools import config

from odoo.addons.retail_integration.tests.common import RetailCase

from .contracts import CONTRACTS

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Receiver:
    """Records what it is sent; ``answer(request) -> (status, headers, delay)``
    or ``(status, headers, delay, body)`` decides the reply (200 by default).
    Each request records when it arrived and when it was answered
    (``received_at``, ``answered_at``: time.time())."""

    def __init__(self, secret=SECRET):
        self.verifier = Webhook(secret)
        self.received = []
        self.answer = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else keep-alive requests stall 40 ms

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    receiver.verifier.verify(body, headers)
                    verified = True
                except WebhookVerificationError:
                    verified = False
                request = {
                    "received_at": time.time(),
                    "headers": headers,
                    "body": body,
                    "json": json.loads(body),
                    "verified": verified,
                }
                status, extra, delay, *custom = (
                    receiver.answer or (lambda r: (200, {}, 0))
                )(request)
                receiver.received.append(request)
                if delay:
                    time.sleep(delay)
                if custom:
                    reply = custom[0]
                else:
                    reply = b'{"ok": true}' if status < 300 else b'{"error": "nope"}'
                request["answered_at"] = time.time()
                try:
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def reply(self, status, headers=None, delay=0, body=None):
        """Answer every request so (``body``: bytes; a small JSON by default)."""
        answer = (status, headers or {}, delay) + ((body,) if body is not None else ())
        self.answer = lambda request: answer


def unused_barcode(env):
    """A valid EAN-13 no product has: demo data of other modules (installed
    beside this one) holds well-known barcodes, and barcodes are unique."""
    Product = env["product.product"].with_context(active_test=False)
    while True:
        # 20-29: numbers for in-store use, never given to a manufacturer.
        digits = "2" + "".join(random.choice("0123456789") for _ in range(11))
        odd, even = sum(map(int, digits[::2])), sum(map(int, digits[1::2]))
        barcode = digits + str((10 - (odd + 3 * even) % 10) % 10)
        if not Product.search_count([("barcode", "=", barcode)], limit=1):
            return barcode


def allow_private_urls(allowed=True):
    return patch.dict(config.options, {"retail_outbox_allow_private_urls": allowed})


class OutboxCase(RetailCase):
    """An active backend with a pricelist, and a subscription to every event
    type pointing at a local receiver. Every event a test writes is checked
    against its published contract (schemas/) when the test ends."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(allow_private_urls())
        cls.receiver = Receiver().start()
        cls.addClassCleanup(cls.receiver.stop)
        cls.pricelist = cls.env["product.pricelist"].create(
            {"name": "Outbox Web Prices"}
        )
        cls.backend.write({"pricelist_id": cls.pricelist.id, "state": "active"})
        cls.subscription = cls.env["retail.event.subscription"].create(
            {
                "name": "Test receiver",
                "backend_id": cls.backend.id,
                "url": cls.receiver.url,
                "signing_secret": SECRET,
                "event_type_ids": [
                    (6, 0, cls.env["retail.outbox.event.type"].search([]).ids)
                ],
                "retry_jitter": 0,
            }
        )
        cls.partner = cls.env["res.partner"].create(
            {"name": "Outbox Customer", "email": "c@example.com"}
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Outbox Widget",
                "default_code": "OW-1",
                "barcode": unused_barcode(cls.env),
                "is_storable": True,
                "list_price": 20.0,
            }
        )
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )

    def setUp(self):
        super().setUp()
        self.receiver.received = []
        self.receiver.answer = None
        self.env.cr.execute("SELECT coalesce(max(id), 0) FROM retail_outbox_event")
        self.events_before = self.env.cr.fetchone()[0]
        self.addCleanup(self.assertContractsKept)

    def contract_breaches(self):
        """["<type> v<n> event <id>: <why>", ...] of the envelopes, in every
        version they were written in, of the events this test wrote that
        break their contract."""
        self.env.flush_all()
        events = self.env["retail.outbox.event"].search(
            [("id", ">", self.events_before)], order="id"
        )
        breaches = []
        for event in events:
            for version in [event.version, *map(int, event.extra_payloads or {})]:
                envelope = json.loads(event._body(version))
                breach = CONTRACTS.breach(envelope)
                if breach:
                    breaches.append(
                        f"{event.event_type} v{version} event {event.uuid}: {breach}"
                    )
        return breaches

    def assertContractsKept(self):
        breaches = self.contract_breaches()
        if breaches:
            self.fail("Events break their published contract:\n" + "\n".join(breaches))

    def only(self, *event_types):
        """The subscription wants these event types only."""
        types = self.env["retail.outbox.event.type"].search(
            [("code", "in", event_types)]
        )
        self.subscription.event_type_ids = [(6, 0, types.ids)]

    def commit_hooks(self):
        """Run what happens when the transaction commits: events are written."""
        self.env.cr.flush()

    def events(self, event_type=None, record=None):
        domain = []
        if event_type:
            domain.append(("event_type", "=", event_type))
        if record:
            domain += [
                ("aggregate_model", "=", record._name),
                ("aggregate_id", "=", record.id),
            ]
        return self.env["retail.outbox.event"].search(domain, order="id")

    def deliveries(self, **filters):
        domain = [("subscription_id", "=", self.subscription.id)]
        domain += [(k, "=", v) for k, v in filters.items()]
        return self.env["retail.outbox.delivery"].search(domain, order="id")

    def dispatch(self, subscription=None):
        return self.as_connector(subscription or self.subscription)._dispatch()

    def make_due(self):
        """Let time pass: every waiting delivery and probe is due now, and no
        receiver's Retry-After holds any more."""
        self.env["retail.outbox.delivery"].search([]).write(
            {"next_attempt": "2000-01-01 00:00:00"}
        )
        self.env["retail.event.subscription"].search([("probe_at", "!=", False)]).write(
            {"probe_at": "2000-01-01 00:00:00"}
        )
        self.env["retail.event.subscription"].search([]).hold_until = False

    def make_order(self, qty=1.0):
        return self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": qty,
                            "price_unit": 20.0,
                        },
                    )
                ],
            }
        )

    def add_stock(self, qty, product=None):
        self.env["stock.quant"]._update_available_quantity(
            product or self.product, self.warehouse.lot_stock_id, qty
        )
