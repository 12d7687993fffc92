from odoo.tests import BaseCase, tagged

from ..lib import broker


@tagged("retail", "post_install", "-at_install")
class TestBrokerLib(BaseCase):
    def test_settings_from_an_amqp_url(self):
        settings = broker.Settings.parse(
            "amqp://app:s%40cret@mq.internal:5673/retail", 5553
        )
        self.assertEqual(
            (settings.host, settings.amqp_port, settings.stream_port, settings.vhost),
            ("mq.internal", 5673, 5553, "retail"),
        )
        self.assertEqual((settings.username, settings.password), ("app", "s@cret"))
        self.assertNotIn("s@cret", repr(settings))
        self.assertEqual(broker.Settings.parse("amqp://h").vhost, "/")
        self.assertEqual(
            settings.describe(broker.STREAM, "events"),
            "rabbitmq-stream://mq.internal:5553/events",
        )
        for bad in ("", "http://h/", "amqp:///x"):
            with self.assertRaises(ValueError):
                broker.Settings.parse(bad)

    def test_routing_key(self):
        self.assertEqual(
            broker.routing_key("order.confirmed", "sale.order", 42),
            "order.confirmed.sale_order.42",
        )

    def test_names(self):
        self.assertTrue(broker.NAME.match("retail.events"))
        for bad in ("amq.topic", "two words", "", "x" * 201):
            self.assertFalse(broker.NAME.match(bad))

    def test_backoff_doubles_up_to_a_cap_and_resets(self):
        now = [100.0]
        backoff = broker.Backoff(clock=lambda: now[0])
        backoff.check()
        waits = [backoff.failed() for _i in range(7)]
        self.assertEqual(waits, [1, 2, 4, 8, 16, 30, 30])
        with self.assertRaisesRegex(broker.BrokerDown, "reconnecting in 30 s"):
            backoff.check()
        now[0] += 30
        backoff.check()
        backoff.succeeded()
        self.assertEqual(backoff.failed(), 1)
