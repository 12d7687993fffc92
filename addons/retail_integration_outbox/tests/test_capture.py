from unittest.mock import patch

from psycopg2.errors import SerializationFailure

from odoo.tests import tagged

from ..models.retail_outbox_event import INSERT_EVENT
from .common import OutboxCase


class Boom(Exception):
    pass


@tagged("retail", "post_install", "-at_install")
class TestCapture(OutboxCase):
    def test_rollback_leaves_no_event_and_commit_has_one(self):
        order = self.make_order()
        with self.assertRaises(Boom), self.env.cr.savepoint():
            order.action_confirm()
            self.commit_hooks()
            self.assertEqual(len(self.events("order.confirmed", order)), 1)
            raise Boom
        self.assertFalse(self.events("order.confirmed", order))
        # A confirmation rolled back before commit time writes nothing either.
        with self.assertRaises(Boom), self.env.cr.savepoint():
            order.action_confirm()
            raise Boom
        self.commit_hooks()
        self.assertFalse(self.events("order.confirmed", order))
        order.invalidate_recordset()
        order.action_confirm()
        self.commit_hooks()
        self.assertEqual(len(self.events("order.confirmed", order)), 1)

    def test_order_confirmed_and_cancelled(self):
        order = self.make_order(qty=2)
        self.env["retail.external.ref"]._bind(self.backend, order, "WEB-1001")
        order.action_confirm()
        self.commit_hooks()
        order._action_cancel()
        self.commit_hooks()
        confirmed, cancelled = self.events(record=order)
        self.assertEqual(
            (confirmed.event_type, cancelled.event_type),
            ("order.confirmed", "order.cancelled"),
        )
        self.assertEqual((confirmed.sequence, cancelled.sequence), (1, 2))
        data = confirmed.payload
        self.assertEqual(data["name"], order.name)
        self.assertEqual(data["state"], "sale")
        self.assertEqual(data["partner"]["email"], "c@example.com")
        self.assertEqual(data["amount_total"], order.amount_total)
        self.assertEqual(data["external_refs"], {"test_shop": "WEB-1001"})
        self.assertEqual(data["lines"][0]["product"]["sku"], "OW-1")
        self.assertEqual(data["lines"][0]["quantity"], 2)
        self.assertEqual(cancelled.payload["state"], "cancel")
        self.assertEqual(confirmed.correlation_id and len(confirmed.correlation_id), 36)

    def test_invoice_paid(self):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner.id,
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.product.id,
                            "quantity": 1,
                            "price_unit": 50.0,
                            "tax_ids": [],
                        },
                    )
                ],
            }
        )
        invoice.action_post()
        self.commit_hooks()
        self.assertFalse(self.events("invoice.paid", invoice))
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.commit_hooks()
        event = self.events("invoice.paid", invoice)
        self.assertEqual(len(event), 1)
        self.assertIn(event.payload["payment_state"], ("paid", "in_payment"))
        self.assertEqual(event.payload["amount_total"], 50.0)
        self.assertEqual(event.payload["name"], invoice.name)

    def test_stock_level_changes_only_when_free_quantity_does(self):
        self.add_stock(10)
        self.commit_hooks()
        event = self.events("stock.level_changed", self.product)
        self.assertEqual(len(event), 1)
        self.assertEqual(event.payload["free_qty"], 10)
        self.assertEqual(event.payload["warehouse"]["code"], self.warehouse.code)
        self.assertEqual(
            event.aggregate_key,
            f"product.product,{self.product.id}@stock.warehouse,{self.warehouse.id}",
        )
        # +5 then -5 in one transaction: the level channels see did not move.
        self.add_stock(5)
        self.add_stock(-5)
        self.commit_hooks()
        self.assertEqual(len(self.events("stock.level_changed", self.product)), 1)
        # Reserving lowers the free quantity.
        order = self.make_order(qty=3)
        order.action_confirm()
        self.commit_hooks()
        latest = self.events("stock.level_changed", self.product)[-1]
        self.assertEqual(
            (latest.payload["free_qty"], latest.payload["on_hand"]), (7, 10)
        )
        self.assertEqual(latest.sequence, 2)

    def test_a_delivery_sent_since_the_change_began_is_not_coalesced_into(self):
        """A stock change whose pending delivery of the same level was sent
        (or coalesced into) after the change's transaction began cannot be
        locked: PostgreSQL refuses with a serialization failure. The new
        event gets a delivery of its own and the change commits, instead of
        failing."""
        self.only("stock.level_changed")
        self.add_stock(10)
        self.commit_hooks()
        first = self.deliveries()
        self.assertEqual(first.state, "pending")
        cr_class = type(self.env.cr)
        execute = cr_class.execute
        refused = []

        def refuse_coalescing(cr, query, params=None, *args, **kwargs):
            if query == INSERT_EVENT and params["coalesce"] and not refused:
                refused.append(params["key"])
                raise SerializationFailure("could not serialize access")
            return execute(cr, query, params, *args, **kwargs)

        with patch.object(cr_class, "execute", refuse_coalescing):
            self.add_stock(-3)
            self.commit_hooks()
        self.assertTrue(refused)
        deliveries = self.deliveries().sorted("sequence")
        self.assertEqual(len(deliveries), 2, "a delivery of its own")
        self.assertEqual(deliveries[0], first)
        self.assertEqual(first.coalesced_count, 0)
        self.assertEqual(deliveries[1].event_id.payload["free_qty"], 7)
        # Without the refusal, the next change coalesces as before.
        self.add_stock(-2)
        self.commit_hooks()
        self.assertEqual(len(self.deliveries()), 2)
        self.assertEqual(deliveries[1].coalesced_count, 1)

    def test_stock_levels_of_the_backends_warehouse_only(self):
        annex = self.env["stock.warehouse"].create(
            {"name": "Outbox Annex", "code": "OBXA"}
        )

        def key(warehouse):
            return f"product.product,{self.product.id}@stock.warehouse,{warehouse.id}"

        def stock_in(warehouse, qty):
            """The aggregates of the stock events this change writes (an event
            is written only for the subscriptions it is routed to)."""
            before = self.events().ids
            self.env["stock.quant"]._update_available_quantity(
                self.product, warehouse.lot_stock_id, qty
            )
            self.commit_hooks()
            return (
                self.events("stock.level_changed", self.product)
                .filtered(lambda e: e.id not in before)
                .mapped("aggregate_key")
            )

        self.backend.warehouse_id = self.warehouse
        self.commit_hooks()  # what the set-up left to write
        self.assertEqual(stock_in(annex, 4), [], "not the backend's warehouse")
        self.assertEqual(stock_in(self.warehouse, 6), [key(self.warehouse)])
        self.backend.warehouse_id = False  # no warehouse: every warehouse
        self.assertEqual(stock_in(annex, 1), [key(annex)])

    def test_shipment_dispatched_with_carrier_and_tracking(self):
        self.add_stock(5)
        carrier = self.env["delivery.carrier"].create(
            {
                "name": "Outbox Express",
                "product_id": self.env["product.product"]
                .create({"name": "Shipping", "type": "service"})
                .id,
            }
        )
        order = self.make_order(qty=2)
        order.action_confirm()
        picking = order.picking_ids
        picking.write({"carrier_id": carrier.id, "carrier_tracking_ref": "TRK123"})
        picking.move_ids.quantity = 2
        picking.button_validate()
        self.commit_hooks()
        event = self.events("shipment.dispatched", picking)
        self.assertEqual(len(event), 1)
        data = event.payload
        self.assertEqual(
            (data["carrier"], data["tracking_ref"]), ("Outbox Express", "TRK123")
        )
        self.assertEqual(data["sale_order"]["name"], order.name)
        self.assertEqual(data["lines"][0]["quantity"], 2)

    def test_one_correlation_id_from_the_channels_order_to_its_shipment(self):
        """An order made while a flow runs (a webhook's handler) keeps the
        flow's id; its confirmation, the delivery to a receiver (envelope and
        header) and the shipment validated later by a person all carry it.
        An order made in the UI starts a flow of its own."""
        self.add_stock(5)
        self.only("order.confirmed", "shipment.dispatched")
        flow = "4b1c0f7e2d9a4e6b8c3f5a7d9e1b2c4d"
        in_flow = self.env["sale.order"].with_context(retail_correlation_id=flow)
        order = in_flow.create(self.make_order().copy_data()[0])
        order.action_confirm()
        self.commit_hooks()
        self.assertEqual(order.retail_correlation_id, flow)
        self.assertEqual(self.events("order.confirmed", order).correlation_id, flow)
        picking = order.picking_ids
        picking.move_ids.quantity = 1
        picking.with_context(retail_correlation_id=False).button_validate()
        self.commit_hooks()
        self.assertEqual(
            self.events("shipment.dispatched", picking).correlation_id, flow
        )
        self.dispatch()
        self.assertEqual(len(self.receiver.received), 2)
        for request in self.receiver.received:
            self.assertTrue(request["verified"])
            self.assertEqual(request["json"]["correlation_id"], flow)
            self.assertEqual(request["headers"]["x-correlation-id"], flow)
        by_hand = (self.make_order(), self.make_order())
        for other in by_hand:  # two clicks, two transactions
            other.action_confirm()
            self.commit_hooks()
        own = [self.events("order.confirmed", o).correlation_id for o in by_hand]
        self.assertNotIn(flow, own)
        self.assertNotEqual(own[0], own[1])

    def test_product_changed_only_for_fields_channels_see(self):
        self.commit_hooks()
        before = len(self.events("product.changed", self.product))
        self.product.write({"description_sale": "Longer text", "weight": 2.0})
        self.product.write({"name": "Outbox Widget"})  # same value
        self.commit_hooks()
        self.assertEqual(len(self.events("product.changed", self.product)), before)
        self.product.write({"name": "Outbox Widget v2"})
        self.product.default_code = "OW-2"
        self.commit_hooks()
        events = self.events("product.changed", self.product)
        self.assertEqual(len(events), before + 1)
        self.assertEqual(events[-1].payload["name"], "Outbox Widget v2")
        self.assertEqual(events[-1].payload["sku"], "OW-2")
        self.product.active = False
        self.commit_hooks()
        self.assertIs(
            self.events("product.changed", self.product)[-1].payload["active"], False
        )

    def test_price_changed_on_the_backend_pricelist_only(self):
        other = self.env["product.pricelist"].create({"name": "Elsewhere"})
        self.env["product.pricelist.item"].create(
            {
                "pricelist_id": other.id,
                "applied_on": "0_product_variant",
                "product_id": self.product.id,
                "compute_price": "fixed",
                "fixed_price": 5,
            }
        )
        self.commit_hooks()
        self.assertFalse(self.events("price.changed", self.product))
        item = self.env["product.pricelist.item"].create(
            {
                "pricelist_id": self.pricelist.id,
                "applied_on": "0_product_variant",
                "product_id": self.product.id,
                "compute_price": "fixed",
                "fixed_price": 17.5,
            }
        )
        self.commit_hooks()
        event = self.events("price.changed", self.product)
        self.assertEqual(len(event), 1)
        self.assertEqual(event.payload["price"], 17.5)
        self.assertEqual(event.payload["pricelist"]["id"], self.pricelist.id)
        item.fixed_price = 17.5
        self.commit_hooks()
        self.assertEqual(len(self.events("price.changed", self.product)), 1)
        item.unlink()
        self.commit_hooks()
        self.assertEqual(
            self.events("price.changed", self.product)[-1].payload["price"], 20.0
        )

    def test_price_changed_on_each_pricelist_a_backend_method_names(self):
        """A routing with a backend method (lib/routing.py): the backend takes
        the prices of every pricelist the method returns."""
        # Write what the class's setup left pending first: this test's
        # captures (of a pricelist that is rolled back) must not join them,
        # since every later test starts with them pending again.
        self.commit_hooks()
        other = self.env["product.pricelist"].create({"name": "Store prices"})
        Backend = type(self.env["retail.backend"])
        # Cached routes must not outlive the patch (cleanups run last first).
        self.addCleanup(self.env.registry.clear_cache)
        self.startPatcher(
            patch.object(
                Backend,
                "_outbox_pricelist_ids",
                lambda backend: [self.pricelist.id, other.id],
                create=True,
            )
        )
        self.env.registry.clear_cache()
        self.only("price.changed")
        self.assertEqual(
            self.env["retail.event.subscription"]._wanted_scopes("price.changed"),
            {self.pricelist.id, other.id},
        )
        self.env["product.pricelist.item"].create(
            {
                "pricelist_id": other.id,
                "applied_on": "0_product_variant",
                "product_id": self.product.id,
                "compute_price": "fixed",
                "fixed_price": 5,
            }
        )
        self.commit_hooks()
        event = self.events("price.changed", self.product)
        self.assertEqual(len(event), 1)
        self.assertEqual(event.payload["pricelist"]["id"], other.id)
        self.assertEqual(event.payload["price"], 5)
        self.assertEqual(len(self.deliveries(event_id=event.id)), 1, "one, not two")

    def test_no_subscription_no_event(self):
        self.subscription.active = False
        order = self.make_order()
        order.action_confirm()
        self.commit_hooks()
        self.assertFalse(self.events(record=order))
