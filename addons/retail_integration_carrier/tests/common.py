"""A carrier backend on the EasyPost stand-in, a shipping method on it, a
customer and a stocked product; every shipment.* event a test writes is
checked against this module's schemas (registered in the outbox's contracts)."""

import json
import time
import uuid
from pathlib import Path

from odoo.addons.retail_integration_outbox.tests.common import (
    OutboxCase,
    unused_barcode,
)
from odoo.addons.retail_integration_outbox.tests.contracts import CONTRACTS, load
from odoo.addons.retail_integration_webhook.tests.common import WebhookCaseMixin

from ..lib import scheme
from ..lib.tracking import EVENT_TYPES
from .easypost_server import API_KEY, EasyPostServer, detail, tracker_event

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
WEBHOOK_SECRET = "easypost-webhook-sécret"  # not ASCII: NFKD-normalized by both sides

for _type in EVENT_TYPES:
    CONTRACTS.add(f"{_type}.v1", load(f"{_type}.v1", SCHEMAS))


def us_partner(env, name="Carrier Customer", street="388 Townsend St", **vals):
    return env["res.partner"].create(
        {
            "name": name,
            "street": street,
            "city": "San Francisco",
            "zip": "94107",
            "state_id": env.ref("base.state_us_5").id,
            "country_id": env.ref("base.us").id,
            "email": "customer@example.com",
            "phone": "+1 415 555 0100",
            **vals,
        }
    )


class CarrierCase(OutboxCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ep = EasyPostServer().start()
        cls.addClassCleanup(cls.ep.stop)
        company = cls.env.company
        company.partner_id.write(
            {
                "street": "417 Montgomery St",
                "city": "San Francisco",
                "zip": "94104",
                "state_id": cls.env.ref("base.state_us_5").id,
                "country_id": cls.env.ref("base.us").id,
            }
        )
        cls.warehouse.partner_id = company.partner_id
        cls.carrier_backend = cls.env["retail.backend"].create(
            {
                "name": "Test EasyPost",
                "code": "test_easypost",
                "channel_type": "carrier",
                "provider": "easypost",
                "carrier_api_url": cls.ep.api_base,
                "api_key": API_KEY,
                "state": "active",
                "user_id": cls.env.ref("base.user_admin").id,
            }
        )
        cls.box = cls.env["stock.package.type"].create(
            {"name": "Test box", "packaging_length": 300, "width": 200, "height": 100}
        )
        cls.carrier = cls.env["delivery.carrier"].create(
            {
                "name": "Test USPS Priority",
                "delivery_type": "retail_easypost",
                "product_id": cls.env["product.product"]
                .create({"name": "Test EasyPost shipping", "type": "service"})
                .id,
                "retail_backend_id": cls.carrier_backend.id,
                "retail_provider_carrier": "USPS",
                "retail_service": "Priority",
                "retail_default_package_type_id": cls.box.id,
            }
        )
        cls.customer = us_partner(cls.env)
        cls.product.write({"weight": 0.5, "hs_code": "6109.10"})
        cls.env["stock.quant"]._update_available_quantity(
            cls.product, cls.warehouse.lot_stock_id, 1000
        )
        cls.endpoint = cls.env["retail.webhook.endpoint"].create(
            {
                "name": "EasyPost tracking",
                "backend_id": cls.carrier_backend.id,
                "scheme": "easypost",
                "secret": WEBHOOK_SECRET,
            }
        )

    def setUp(self):
        super().setUp()
        self.ep.script = []
        self.ep.requests = []
        self.ep.buys = 0

    def make_picking(self, partner=None, qty=2.0, carrier=None, lines=1):
        order = self.env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    (0, 0, {"product_id": self.product.id, "product_uom_qty": qty})
                    for _line in range(lines)
                ],
            }
        )
        order.set_delivery_line(carrier or self.carrier, 7.58)
        order.action_confirm()
        picking = order.picking_ids
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        return picking

    def validate(self, picking):
        result = picking.button_validate()
        self.assertIs(result, True, result)
        self.assertEqual(picking.state, "done")
        return picking

    # Webhooks ----------------------------------------------------------

    def post_tracker(self, tracker, event_id=None, secret=WEBHOOK_SECRET):
        body = tracker_event(tracker, event_id)
        headers = {
            "X-Hmac-Signature": scheme.signature(secret, body),
            "Content-Type": "application/json",
        }
        return body, headers

    def receive(self, tracker, event_id=None):
        """Store the webhook as the endpoint does, and process it now."""
        body, headers = self.post_tracker(tracker, event_id)
        from odoo.addons.retail_integration_webhook.lib import schemes

        verified = schemes.SCHEMES["easypost"].verify(
            schemes.SignedRequest(
                headers={k.lower(): v for k, v in headers.items()},
                body=body,
                secrets=[WEBHOOK_SECRET],
                now=int(time.time()),
            )
        )
        topic, delivery_id = schemes.message_keys(verified, json.loads(body), body)
        message = self.env["retail.inbound.message"]._insert_once(
            self.endpoint,
            topic=topic,
            delivery_id=delivery_id,
            body=body.decode(),
            body_hash=uuid.uuid4().hex,
            headers={},
            state="queued",
            correlation_id=uuid.uuid4().hex,
        )
        if message is None:
            return None
        message.with_context(queue_job__no_delay=True)._process()
        return message

    def tracker_of(self, shipment):
        return self.ep.trackers[shipment.tracker_ref]

    def tracking(self, shipment, status, details):
        """The stand-in's tracker of ``shipment`` with these details
        ([(status, ISO time, message, city)])."""
        return dict(
            self.tracker_of(shipment),
            status=status,
            tracking_details=[detail(*d) for d in details],
        )


__all__ = ["CarrierCase", "WebhookCaseMixin", "unused_barcode", "us_partner"]
