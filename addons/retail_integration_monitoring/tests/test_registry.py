from odoo.tests import tagged

from ..lib import flows, sources
from .common import MonitoringCase


class PosLikeTicketsIn(sources.InboundMessageSource):
    """What a POS module registers from its own code (readme/CONFIGURE.md)."""

    label = "tickets in"
    data_kind = "tickets"
    max_lag_seconds = 600
    where = "b.channel_type = 'pos'"

    def discover(self, env):
        backends = env["retail.backend"].search([("channel_type", "=", "pos")])
        return [
            flows.FlowRef(str(b.id), f"{b.name} · {self.label}", b.id, b.company_id.id)
            for b in backends
        ]


class StoresSettled(flows.Kpi):
    name = "Stores settled"
    unit = "count"
    warning = 1

    def compute(self, env, now):
        return [flows.KpiValue(env.company.id, None, 0.0, self.state_of(0.0))]


@tagged("retail", "post_install", "-at_install")
class TestRegistry(MonitoringCase):
    def setUp(self):
        super().setUp()
        flows.register_source("test.pos_tickets_in")(PosLikeTicketsIn)
        flows.register_kpi("test.stores_settled")(StoresSettled)
        self.addCleanup(flows.SOURCES.unregister, "test.pos_tickets_in")
        self.addCleanup(flows.KPIS.unregister, "test.stores_settled")

    def test_a_module_adds_its_flows_and_kpis(self):
        store = self.make_backend("Lyon stores", "lyon", channel_type="pos")
        self.message(self.make_endpoint(store, "Lyon hooks"), ago=60, lag=4)
        flow = self.measured("test.pos_tickets_in", store.id)
        self.assertEqual(flow.name, "Lyon stores · tickets in")
        self.assertEqual((flow.max_lag_seconds, flow.data_kind), (600, "tickets"))
        self.assertEqual((flow.volume_1h, flow.lag_p50), (1, 4.0))
        values = self.env["retail.monitor.kpi.value"]._refresh(self.now)
        keys = {kpi.key for kpi, _value in values}
        self.assertIn("test.stores_settled", keys)
        self.assertIn("webhook_failure_rate", keys, "beside the built-in ones")

    def test_sources_of_modules_not_installed_are_left_out(self):
        class Foreign(PosLikeTicketsIn):
            pass

        Foreign.__module__ = "odoo.addons.retail_integration_not_here.models.x"
        flows.register_source("test.foreign")(Foreign)
        self.addCleanup(flows.SOURCES.unregister, "test.foreign")
        self.assertIn("test.foreign", flows.SOURCES)
        self.assertNotIn("test.foreign", self.env["retail.monitor.flow"]._sources())
        self.assertIn("test.pos_tickets_in", self.env["retail.monitor.flow"]._sources())
