from datetime import timedelta

from odoo.tests import tagged

from .common import MonitoringCase


def chain(case, correlation, order_name):
    """A channel order's whole path, every step at a known time: webhook
    received (T), processed (T+2 s), sale order created (T+1 s) and
    confirmed (T+5 s), event written (T+5 s) and delivered (T+7 s), and an
    exception about the order (T+9 s)."""
    start = case.now - timedelta(minutes=10)
    message = case.message(case.endpoint, ago=600, lag=2, correlation=correlation)
    partner = case.env["res.partner"].create({"name": "Trace Customer"})
    order = case.env["sale.order"].create(
        {
            "partner_id": partner.id,
            "retail_backend_id": case.backend.id,
            "retail_order_name": order_name,
            "retail_correlation_id": correlation,
        }
    )
    case.env.cr.execute(
        """UPDATE sale_order SET create_date = %s, state = 'sale', date_order = %s
            WHERE id = %s""",
        [start + timedelta(seconds=1), start + timedelta(seconds=5), order.id],
    )
    order.invalidate_recordset()
    message.write({"res_model": "sale.order", "res_id": order.id})
    sub = case.make_subscription(case.backend, types=["order.confirmed"])
    delivery = case.delivery(sub, ago=595, lag=2)
    delivery.event_id.write({"correlation_id": correlation})
    exception = case.env["retail.sync.exception"]._report(
        "Refund on delivered order", backend=case.backend, kind="data", document=order
    )
    case.env.cr.execute(
        "UPDATE retail_sync_exception SET first_seen = %s WHERE id = %s",
        [start + timedelta(seconds=9), exception.id],
    )
    exception.invalidate_recordset()
    return message, order, delivery, exception


@tagged("retail", "post_install", "-at_install")
class TestTrace(MonitoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.chain = chain(cls, "corr-trace-1", "#T1001")
        cls.message(cls.endpoint, ago=30, lag=1, correlation="another-flow")

    def trace(self, query):
        trace = self.env["retail.monitor.trace"].create({"query": query})
        trace.action_trace()
        return trace

    def test_whole_path_in_time_order(self):
        message, order, delivery, exception = self.chain
        for query in ("corr-trace-1", "#T1001", order.name, message.delivery_id):
            trace = self.trace(query)
            lines = trace.line_ids
            self.assertEqual(trace.correlation_ids, "corr-trace-1", query)
            steps = [(line.res_model, round(line.delta_seconds)) for line in lines]
            self.assertEqual(
                steps,
                [
                    ("retail.inbound.message", 0),
                    ("sale.order", 1),
                    ("retail.inbound.message", 1),
                    ("sale.order", 3),
                    ("retail.outbox.event", 0),
                    ("retail.outbox.delivery", 2),
                    ("retail.sync.exception", 2),
                ],
                query,
            )
            self.assertEqual(trace.total_display, "9 s")
        self.assertEqual(lines[-1].res_id, exception.id)
        self.assertEqual(lines[5].res_id, delivery.id)
        action = lines[1].action_open()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("sale.order", order.id)
        )

    def test_nothing_found_and_hostile_input(self):
        for query in ("no-such-id", "' OR 1=1 --", "%", "x" * 5000):
            trace = self.trace(query)
            self.assertFalse(trace.line_ids, query[:20])
            self.assertIn("Nothing found", trace.summary)

    def test_trace_from_the_record(self):
        message, order, delivery, _exception = self.chain
        for record in (order, message, delivery):
            action = self.env["retail.monitor.trace"]._action_for(record)
            trace = self.env["retail.monitor.trace"].browse(action["res_id"])
            self.assertEqual(len(trace.line_ids), 7, record._name)
