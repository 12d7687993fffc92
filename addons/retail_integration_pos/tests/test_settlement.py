from datetime import timedelta

from odoo import fields
from odoo.tests import Form, tagged

from .common import DAY, PosCase, ticket


@tagged("retail", "-at_install", "post_install")
class TestSettlement(PosCase):
    def day(self):
        return self.env["retail.pos.store.day"].search(
            [("backend_id", "=", self.backend.id), ("business_date", "=", DAY)]
        )

    def test_a_z_report_that_balances_posts_the_day(self):
        sales = [ticket(n) for n in (1001, 1002)] + [
            ticket(
                1003, payments=[{"method": "cash", "amount": "30.00"}], change="4.50"
            )
        ]
        self.send_tickets(sales)
        quantity_before = self.product_1.with_context(
            location=self.store.location_id.id
        ).qty_available
        message = self.send_zreport(
            self.zreport(
                3,
                {"card": "51.00", "cash": "25.50"},
                first_number="1001",
                last_number="1003",
                cash_counted="25.50",
            )
        )
        self.assertEqual(message.state, "done", message.error_detail)
        zreport = self.env["retail.pos.zreport"].browse(message.res_id)
        self.assertEqual(zreport.state, "posted", zreport.summary)
        self.assertEqual(zreport.session_id.state, "closed")
        self.assertTrue(zreport.session_id.move_id, "the day is posted in accounting")
        self.assertEqual(zreport.session_id.move_id.state, "posted")
        day = self.day()
        self.assertEqual(day.state, "posted")
        self.assertEqual((day.tickets_received, day.tickets_expected), (3, 3))
        lines = {ln.method: (ln.expected, ln.received) for ln in day.line_ids}
        self.assertEqual(lines["Test Card"], (51.0, 51.0))
        self.assertEqual(lines[self.r1._cash_method().name], (25.5, 25.5))
        quantity_after = self.product_1.with_context(
            location=self.store.location_id.id
        ).qty_available
        self.assertEqual(quantity_before - quantity_after, 6, "stock left the store")
        # A late ticket for a posted day is refused in plain words.
        self.send_tickets([ticket(1004)])
        self.assertIn("was posted", self.tickets(1004).error)

    def test_missing_tickets_then_balanced_by_the_late_ones(self):
        self.backend.pos_settlement_deadline_hours = 0
        self.send_tickets([ticket(n) for n in (1001, 1002, 1005)])
        message = self.send_zreport(
            self.zreport(5, {"card": "127.50"}, first_number="1001", last_number="1005")
        )
        zreport = self.env["retail.pos.zreport"].browse(message.res_id)
        self.assertEqual(zreport.state, "difference")
        self.assertEqual(zreport.missing_numbers, "1003-1004")
        cause = zreport.exception_id.cause
        self.assertIn("3 of 5 tickets received", cause)
        self.assertIn("Missing: 1003-1004", cause)
        self.assertIn("Test Card: Z report 127.50, received 76.50", cause)
        self.assertEqual(zreport.session_id.state, "opened", "the session stays open")
        self.assertEqual(self.day().state, "difference")
        for record in (zreport, self.day(), self.tickets(1001)):
            form = Form(record)  # its form view loads with what it shows
            self.assertEqual(form.id, record.id)
        # The late tickets arrive: re-checked automatically, balanced, posted.
        self.send_tickets([ticket(1004), ticket(1003)])
        self.assertEqual(zreport.state, "posted", zreport.summary)
        self.assertEqual(zreport.exception_id.state, "resolved")
        self.assertEqual(self.day().state, "posted")

    def test_a_z_report_before_its_tickets_waits_until_its_deadline(self):
        message = self.send_zreport(self.zreport(2, {"card": "51.00"}, register="R2"))
        zreport = self.env["retail.pos.zreport"].browse(message.res_id)
        self.assertEqual(zreport.state, "waiting")
        self.assertFalse(zreport.exception_id, "no alarm before the deadline")
        self.assertEqual(self.day().state, "waiting")
        self.send_tickets([ticket(2001, register="R2")])
        self.assertEqual(zreport.state, "waiting")
        # The deadline passes: the cron files the difference.
        zreport.deadline = fields.Datetime.now() - timedelta(minutes=1)
        self.env["retail.pos.zreport"].with_context(
            queue_job__no_delay=True
        )._cron_settle()
        self.assertEqual(zreport.state, "difference")
        self.assertIn("1 of 2 tickets received", zreport.exception_id.cause)
        self.send_tickets([ticket(2002, register="R2")])
        self.assertEqual(zreport.state, "posted")

    def test_a_payment_difference_and_accepting_it_with_a_reason(self):
        self.send_tickets(
            [
                ticket(1001),
                ticket(1002, payments=[{"method": "cash", "amount": "25.50"}]),
            ]
        )
        message = self.send_zreport(
            self.zreport(2, {"card": "25.50", "cash": "25.50"}, cash_counted="20.00")
        )
        zreport = self.env["retail.pos.zreport"].browse(message.res_id)
        self.assertEqual(zreport.state, "difference", "every ticket is there: at once")
        self.assertIn(
            "Cash counted 20.00, cash received 25.50", zreport.exception_id.cause
        )
        day = self.day()
        day.action_recheck()
        self.assertEqual(zreport.state, "difference")
        wizard = self.env["retail.pos.accept.difference"].create(
            {"store_day_id": day.id, "reason": "Drawer counted again: 5.50 in the safe"}
        )
        wizard.with_context(queue_job__no_delay=True).action_accept()
        self.assertEqual(zreport.state, "posted")
        self.assertEqual(zreport.exception_id.state, "resolved")
        self.assertIn("5.50 in the safe", day.message_ids[0].body)
        self.assertEqual(day.state, "posted")

    def test_the_z_report_is_checked(self):
        bad = self.receive("pos.zreport", {"store": "LYON", "register": "R1"})
        self.assertEqual(bad.state, "failed")
        self.assertIn("ticket_count must be a whole number", bad.error)

    def test_late_tickets_of_a_posted_day_in_a_rescue_session(self):
        self.backend.pos_late_tickets = "rescue"
        self.send_tickets([ticket(1001)])
        message = self.send_zreport(self.zreport(1, {"card": "25.50"}))
        zreport = self.env["retail.pos.zreport"].browse(message.res_id)
        self.assertEqual(zreport.state, "posted", zreport.summary)
        day_session = zreport.session_id
        # Two late tickets, in two uploads: one rescue session of that day.
        self.send_tickets([ticket(1002)])
        self.send_tickets([ticket(1003)])
        late = self.tickets(1002, 1003)
        self.assertEqual(late.mapped("state"), ["done", "done"], late.mapped("error"))
        rescue = late.pos_order_id.session_id
        self.assertEqual(len(rescue), 1)
        self.assertTrue(rescue.retail_rescue)
        self.assertNotEqual(rescue, day_session)
        self.assertEqual(rescue.retail_business_date, DAY)
        self.assertEqual(rescue.state, "opened")
        self.assertTrue(Form(rescue).retail_rescue, "its form shows what it is")
        self.assertEqual(day_session.state, "closed", "the posted day stays as it was")
        Session = self.env["pos.session"]
        self.assertFalse(Session._retail_post_rescues(), "a late ticket may follow")
        # Quiet for long enough, outside the posting window: it waits.
        hour = fields.Datetime.now().hour
        self.backend.write(
            {
                "pos_post_window_start": (hour + 2) % 24,
                "pos_post_window_end": (hour + 3) % 24 or 24,
            }
        )
        self.env.cr.execute(
            "UPDATE pos_session SET write_date = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(hours=1), rescue.id],
        )
        self.env.invalidate_all()
        self.assertFalse(Session._retail_post_rescues())
        self.backend.write({"pos_post_window_start": 0, "pos_post_window_end": 24})
        self.assertEqual(Session._retail_post_rescues(), rescue)
        self.assertEqual(rescue.state, "closed")
        self.assertEqual(rescue.move_id.state, "posted", "posted on its own")
        # Another late ticket: a new rescue session, the posted one untouched.
        self.send_tickets([ticket(1004)])
        self.assertEqual(self.tickets(1004).state, "done", self.tickets(1004).error)
        again = self.tickets(1004).pos_order_id.session_id
        self.assertTrue(again.retail_rescue)
        self.assertNotEqual(again, rescue)
