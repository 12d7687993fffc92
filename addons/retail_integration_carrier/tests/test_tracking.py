from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import CarrierCase


@tagged("retail", "-at_install", "post_install")
class TestTracking(CarrierCase):
    """EasyPost tracker.updated webhooks (signed, stored, processed by the
    handler as the backend's technical user): history, status, events."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.picking = cls.make_picking(cls, qty=1)
        cls.picking.button_validate()
        cls.shipment = cls.picking.retail_shipment_ids

    def shipment_events(self):
        return self.events(record=self.picking).filtered(
            lambda e: (
                e.event_type.startswith("shipment.")
                and e.event_type != "shipment.dispatched"
            )
        )

    def test_in_transit_then_delivered_write_history_status_and_events(self):
        tracker = self.tracking(
            self.shipment,
            "in_transit",
            [
                ("pre_transit", "2025-03-01T08:00:00Z", "Label created"),
                ("in_transit", "2025-03-01T18:00:00Z", "Departed", "Memphis"),
            ],
        )
        message = self.receive(tracker)
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(message.res_id, self.picking.id)
        self.assertEqual(self.shipment.status, "in_transit")
        self.assertEqual(self.picking.retail_tracking_status, "in_transit")
        self.assertEqual(self.shipment.status_location, "Memphis, TN, US")
        self.assertEqual(len(self.picking.retail_tracking_event_ids), 2)
        self.commit_hooks()
        [event] = self.shipment_events()
        self.assertEqual(event.event_type, "shipment.in_transit")
        data = event.payload
        self.assertEqual(data["picking"]["name"], self.picking.name)
        self.assertEqual(data["sale_order"]["name"], self.picking.sale_id.name)
        self.assertEqual(data["tracking_numbers"], [self.shipment.tracking_number])
        self.assertEqual(
            data["carrier"], {"name": self.carrier.name, "provider": "easypost"}
        )
        self.assertEqual(event.correlation_id, message.correlation_id)

        tracker = self.tracking(
            self.shipment,
            "delivered",
            [
                ("pre_transit", "2025-03-01T08:00:00Z", "Label created"),
                ("in_transit", "2025-03-01T18:00:00Z", "Departed", "Memphis"),
                (
                    "delivered",
                    "2025-03-02T11:30:00Z",
                    "Delivered, front door",
                    "San Francisco",
                ),
            ],
        )
        self.receive(tracker)
        self.assertEqual(self.picking.retail_tracking_status, "delivered")
        self.assertEqual(len(self.picking.retail_tracking_event_ids), 3)
        self.commit_hooks()
        self.assertEqual(
            self.shipment_events().mapped("event_type"),
            ["shipment.in_transit", "shipment.delivered"],
        )

    def test_an_older_in_transit_never_overwrites_delivered(self):
        delivered = self.tracking(
            self.shipment,
            "delivered",
            [("delivered", "2025-03-02T11:30:00Z", "Delivered")],
        )
        late = self.tracking(
            self.shipment,
            "in_transit",
            [("in_transit", "2025-03-01T18:00:00Z", "Departed")],
        )
        self.receive(delivered)
        message = self.receive(late)
        self.assertEqual(message.state, "done")
        self.assertIn("status unchanged", message.result)
        self.assertEqual(self.picking.retail_tracking_status, "delivered")
        self.assertEqual(len(self.picking.retail_tracking_event_ids), 2)
        self.commit_hooks()
        self.assertEqual(
            self.shipment_events().mapped("event_type"), ["shipment.delivered"]
        )

    def test_a_duplicate_webhook_is_taken_once(self):
        tracker = self.tracking(
            self.shipment,
            "in_transit",
            [("in_transit", "2025-03-01T18:00:00Z", "Departed")],
        )
        self.assertTrue(self.receive(tracker, event_id="evt_dup"))
        self.assertIsNone(self.receive(tracker, event_id="evt_dup"))
        # The same report under a new event id: no event recorded twice.
        self.receive(tracker, event_id="evt_dup_2")
        self.assertEqual(len(self.picking.retail_tracking_event_ids), 1)

    def test_a_delivery_exception_lands_in_the_responsible_users_inbox(self):
        self.picking.user_id = (
            self.env.ref("base.user_demo", raise_if_not_found=False) or self.env.user
        )
        tracker = self.tracking(
            self.shipment,
            "failure",
            [("failure", "2025-03-02T09:00:00Z", "Package damaged", "Oakland")],
        )
        self.receive(tracker)
        self.assertEqual(self.picking.retail_tracking_status, "failure")
        exception = self.env["retail.sync.exception"].search(
            [("res_model", "=", "stock.picking"), ("res_id", "=", self.picking.id)]
        )
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.kind, "delivery")
        self.assertEqual(exception.user_id, self.picking.user_id)
        self.assertIn("Package damaged", exception.cause)
        self.assertIn("Oakland", exception.cause)
        self.commit_hooks()
        self.assertEqual(
            self.shipment_events().mapped("event_type"), ["shipment.exception"]
        )
        # Delivered after all: the exception is closed.
        self.receive(
            self.tracking(
                self.shipment,
                "delivered",
                [("delivered", "2025-03-03T09:00:00Z", "Delivered")],
            )
        )
        self.assertEqual(exception.state, "resolved")

    def test_returned_to_sender(self):
        self.receive(
            self.tracking(
                self.shipment,
                "return_to_sender",
                [("return_to_sender", "2025-03-04T09:00:00Z", "Refused by recipient")],
            )
        )
        self.assertEqual(self.picking.retail_tracking_status, "return_to_sender")
        self.commit_hooks()
        self.assertEqual(
            self.shipment_events().mapped("event_type"), ["shipment.returned"]
        )

    def test_a_shipments_webhooks_share_an_aggregate_key(self):
        """Keyed by tracking number (read from the payload on the accept
        path): a backend's drains take one shipment's webhooks one at a time,
        in arrival order."""
        key = self.env["retail.inbound.message"]._aggregate_key
        tracker = self.tracker_of(self.shipment)
        number = self.shipment.tracking_number
        self.assertEqual(
            key("tracker.updated", {"result": tracker}), f"tracking:{number}"
        )
        self.assertEqual(
            key("tracker.created", {"result": dict(tracker, tracking_details="x")}),
            f"tracking:{number}",
            "unreadable events: still the shipment's",
        )
        self.assertEqual(
            key("shipment.tracking", {"data": {"tracking_number": "RP-1"}}),
            "tracking:RP-1",
        )
        hostile = key(
            "shipment.tracking", {"data": {"tracking_number": "a\x00b" + "x" * 200}}
        )
        self.assertTrue(hostile.startswith("tracking:abx"), hostile)
        self.assertLessEqual(len(hostile), 109, "storable")
        for topic, payload in (
            ("tracker.updated", None),
            ("tracker.updated", [1, 2]),
            ("tracker.updated", {"result": {"object": "Tracker", "id": "trk_x"}}),
            ("tracker.updated", {"result": {"object": "Batch", "tracking_code": "1"}}),
            ("shipment.tracking", {"data": {"tracking_number": 42}}),
            ("shipment.tracking", {"data": "RP-1"}),
            ("ping", {"result": tracker}),  # not a tracking topic
        ):
            self.assertIsNone(key(topic, payload), (topic, payload))

    def test_unknown_and_hostile_payloads(self):
        stranger = dict(
            self.tracker_of(self.shipment), id="trk_other", tracking_code="NOPE1"
        )
        message = self.receive(stranger)
        self.assertEqual(message.state, "done")
        self.assertIn("No shipment", message.result)
        for label, result in {
            "no tracker": None,
            "a list": [1, 2],
            "no code": {"object": "Tracker", "id": "trk_x"},
        }.items():
            with self.subTest(label):
                message = self.receive(result)
                self.assertEqual(message.state, "failed")
                self.assertIn("names no tracker", message.error)
        hostile = self.tracking(
            self.shipment,
            "delivered",
            [
                ("delivered", "not a date", "x" * 10000),
                ("teleported", "2025-03-01T00:00:00Z"),
            ],
        )
        hostile["tracking_details"].append("garbage")
        message = self.receive(hostile)
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.shipment.status, "delivered")
        self.assertTrue(
            all(len(e.message or "") <= 500 for e in self.shipment.event_ids)
        )

    def test_the_polling_fallback_refreshes_stale_shipments_within_the_batch(self):
        other = self.make_picking(qty=1)
        other.button_validate()
        stale = self.shipment | other.retail_shipment_ids
        stale.write({"last_tracked_at": fields.Datetime.now() - timedelta(days=2)})
        for shipment in stale:
            self.ep.set_tracking(
                shipment.tracker_ref,
                "delivered",
                [
                    {
                        "object": "TrackingDetail",
                        "status": "delivered",
                        "message": "Delivered",
                        "datetime": "2025-03-02T11:30:00Z",
                        "tracking_location": {"city": "San Francisco"},
                    }
                ],
            )
        self.carrier_backend.carrier_poll_batch = 1
        Backend = self.env["retail.backend"].with_context(queue_job__no_delay=True)
        self.assertEqual(Backend._cron_carrier_refresh_tracking(), 1)
        self.assertEqual(sorted(stale.mapped("status")), ["delivered", "pre_transit"])
        self.assertEqual(len(self.ep.calls("GET", r"/v2/trackers/")), 1)
        self.assertEqual(Backend._cron_carrier_refresh_tracking(), 1)
        self.assertEqual(stale.mapped("status"), ["delivered", "delivered"])
        # Nothing stale any more (delivered is final).
        self.assertEqual(Backend._cron_carrier_refresh_tracking(), 0)
