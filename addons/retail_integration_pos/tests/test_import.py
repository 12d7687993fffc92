import random

from odoo.tests import Form, tagged

from .common import DAY, PosCase, ticket


@tagged("retail", "-at_install", "post_install")
class TestTicketImport(PosCase):
    def orders(self):
        return self.env["pos.order"].search(
            [("retail_backend_id", "=", self.backend.id)]
        )

    def test_a_batch_imports_each_ticket_once_whatever_the_order(self):
        batch = [ticket(n) for n in range(1001, 1005)] + [
            ticket(
                2001,
                register="R2",
                payments=[{"method": "cash", "amount": "30.00"}],
                change="4.50",
            )
        ]
        message = self.send_tickets(batch)
        self.assertEqual(message.state, "done", message.error_detail)
        self.assertIn("5 new", message.result)
        orders = self.orders()
        self.assertEqual(len(orders), 5)
        self.assertEqual(set(orders.mapped("state")), {"paid"})
        self.assertEqual(sum(orders.mapped("amount_total")), 5 * 25.5)
        sessions = orders.session_id
        self.assertEqual(len(sessions), 2, "one session per register and day")
        self.assertEqual(set(sessions.mapped("retail_business_date")), {DAY})
        self.assertEqual(
            sessions.config_id, self.r1.pos_config_id | self.r2.pos_config_id
        )
        cash_order = orders.filtered(
            lambda o: o.session_id.retail_register_id == self.r2
        )
        self.assertEqual(cash_order.amount_return, 4.5)
        self.assertEqual(sum(cash_order.payment_ids.mapped("amount")), 25.5)
        line = orders[0].lines.filtered(lambda ln: ln.product_id == self.product_2)
        self.assertEqual((line.price_subtotal, line.price_subtotal_incl), (5.0, 5.5))
        self.assertEqual(line.tax_ids, self.tax)
        # Repeated, overlapping, reversed, with duplicates inside the batch.
        again = [ticket(n) for n in (1005, 1004, 1003, 1003, 1001)]
        random.Random(4).shuffle(again)
        message = self.send_tickets(again)
        self.assertIn("1 new", message.result)
        self.assertIn("4 already received", message.result)
        self.assertEqual(len(self.orders()), 6)
        self.assertEqual(len(self.orders().session_id), 2)
        self.assertEqual(
            self.tickets(1001).pos_order_id.retail_correlation_id,
            self.tickets(1001).correlation_id,
        )

    def test_the_customer_is_matched_by_exact_email(self):
        """A ticket's % or _ is no wildcard; case does not matter."""
        known = self.env["res.partner"].create(
            {"name": "Ann Known", "email": "ann@example.com"}
        )
        emails = {1001: "ANN@example.com", 1002: "%@%", 1003: "_nn@example.com"}
        message = self.send_tickets(
            [ticket(n, customer={"email": e}) for n, e in emails.items()]
        )
        self.assertEqual(message.state, "done", message.error_detail)
        self.assertEqual(self.tickets(1001).pos_order_id.partner_id, known)
        self.assertFalse(self.tickets(1002).pos_order_id.partner_id)
        self.assertFalse(self.tickets(1003).pos_order_id.partner_id)

    def test_a_ticket_in_another_currency_is_refused(self):
        currency = self.r1.pos_config_id.currency_id.name
        other = "JPY" if currency != "JPY" else "EUR"
        message = self.send_tickets(
            [
                ticket(1001, currency=other),
                ticket(1002, currency=currency),
                ticket(1003),
            ]
        )
        self.assertEqual(message.state, "done", message.error_detail)
        self.assertFalse(self.tickets(1001).pos_order_id)
        self.assertIn(f"is in {other}", self.tickets(1001).error)
        self.assertTrue(self.tickets(1002).pos_order_id)
        self.assertTrue(self.tickets(1003).pos_order_id)

    def test_one_bad_ticket_never_blocks_the_others(self):
        batch = [
            ticket(1001),
            ticket(
                1002,
                lines=[{"sku": "4711", "quantity": 1, "unit_price": "3.00"}],
                payments=[{"method": "card", "amount": "3.00"}],
            ),
            ticket(1003, payments=[{"method": "voucher", "amount": "25.50"}]),
            ticket(1004, payments=[{"method": "card", "amount": "20.00"}]),
            ticket(1005, register="R9"),
            ticket(
                1006, lines=[{"sku": "POS-1", "quantity": "lots", "unit_price": "1"}]
            ),
            {"store": "LYON", "register": "R1", "lines": []},
            ticket(1007),
        ]
        message = self.receive("pos.tickets", {"tickets": batch})
        self.assertEqual(message.state, "done", message.error_detail)
        self.assertEqual(self.tickets(1001, 1007).mapped("state"), ["done", "done"])
        failed = self.tickets(1002, 1003, 1004, 1005, 1006, register=False)
        failed = self.env["retail.pos.ticket"].search(
            [("backend_id", "=", self.backend.id), ("state", "=", "failed")]
        )
        self.assertEqual(len(failed), 5)
        causes = "\n".join(failed.exception_id.mapped("cause"))
        for words in (
            "SKU 4711 unknown at store Lyon.",
            "Payment method voucher of store Lyon is not mapped",
            "its payments (20.00) differ from its total in Odoo (25.50)",
            "Register R9 is unknown at store Lyon",
            "lines[0].quantity is not a number",
        ):
            self.assertIn(words, causes)
        unkeyed = self.env["retail.sync.exception"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("name", "=", "POS tickets without a key"),
            ]
        )
        self.assertIn("tickets[6].number is missing", unkeyed.cause)
        # The SKU is created: Retry in the inbox imports the ticket.
        self.env["product.product"].create(
            {"name": "Socks", "default_code": "4711", "taxes_id": [(6, 0, [])]}
        )
        exception = self.tickets(1002).exception_id
        exception.with_context(queue_job__no_delay=True).action_retry()
        self.assertEqual(self.tickets(1002).state, "done")
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(self.tickets(1003).state, "failed")

    def test_a_failed_ticket_sent_again_corrected_is_imported(self):
        wrong = [{"sku": "NOPE", "quantity": 1, "unit_price": "10.00"}]
        self.send_tickets([ticket(1001, lines=wrong), ticket(1002)])
        self.assertEqual(self.tickets(1001).state, "failed")
        exception = self.tickets(1001).exception_id
        message = self.send_tickets([ticket(1001), ticket(1002)])
        self.assertIn("1 new, 1 already received", message.result)
        self.assertEqual(self.tickets(1001, 1002).mapped("state"), ["done", "done"])
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(len(self.orders()), 2)

    def test_the_batch_envelope_is_checked(self):
        too_many = self.receive("pos.tickets", {"tickets": [ticket(1)] * 501})
        self.assertEqual(too_many.state, "failed")
        self.assertIn("at most 500 tickets", too_many.error)
        not_a_list = self.receive("pos.tickets", {"tickets": {"a": 1}})
        self.assertIn("must be a list", not_a_list.error)
        self.assertFalse(self.orders())

    def test_a_void_counts_in_the_sequence_but_makes_no_order(self):
        self.send_tickets(
            [ticket(1001), ticket(1002, type="void", lines=[], payments=[])]
        )
        self.assertEqual(self.tickets(1002).state, "void")
        self.assertEqual(len(self.orders()), 1)

    def test_the_backend_form_maps_stores_registers_and_methods(self):
        with Form(self.backend) as form:
            form.pos_unreferenced_returns = "refuse"
            with form.pos_payment_map_ids.new() as mapping:
                mapping.code = "voucher"
                mapping.payment_method_id = self.card
        self.assertEqual(
            self.backend.pos_payment_map_ids.filtered(
                lambda m: m.code == "voucher"
            ).payment_method_id,
            self.card,
        )
        with Form(self.store) as store:
            with store.register_ids.new() as register:
                register.code = "R3"
        self.backend.action_pos_create_configs()
        r3 = self.store.register_ids.filtered(lambda r: r.code == "R3")
        self.assertEqual(r3.pos_config_id.name, "Lyon R3")
        self.assertIn(self.card, r3.pos_config_id.payment_method_ids)
        self.assertTrue(r3._cash_method())
        self.assertEqual(r3.pos_config_id.picking_type_id, self.warehouse.pos_type_id)

    def test_the_json_of_old_imported_tickets_is_dropped(self):
        self.send_tickets(
            [
                ticket(1001),
                ticket(1002),
                ticket(1003, lines=[{"sku": "4711", "quantity": 1, "unit_price": "1"}]),
            ]
        )
        done, recent, failed = self.tickets(1001, 1002, 1003).sorted("number")
        self.assertEqual(
            (done.state, recent.state, failed.state), ("done", "done", "failed")
        )
        self.env.cr.execute(
            """UPDATE retail_pos_ticket
                  SET received_at = now() at time zone 'UTC' - interval '91 days'
                WHERE id IN %s""",
            [(done.id, failed.id)],
        )
        self.backend.pos_ticket_retention_days = 0
        Ticket = self.env["retail.pos.ticket"]
        self.assertEqual(Ticket._cron_drop_payloads(), 0, "0 keeps them for ever")
        self.backend.pos_ticket_retention_days = 90
        self.assertEqual(Ticket._cron_drop_payloads(), 1)
        self.assertFalse(done.payload)
        self.assertIn("retention", done.payload_text)
        self.assertTrue(done.pos_order_id, "the order stays")
        self.assertEqual(recent.payload["number"], "1002", "received today: kept")
        self.assertEqual(failed.payload["number"], "1003", "still to import: kept")
        # Sent again: still imported once, nothing staged anew.
        self.send_tickets([ticket(1001)])
        self.assertEqual(len(self.orders()), 2)
        self.assertFalse(done.payload)
