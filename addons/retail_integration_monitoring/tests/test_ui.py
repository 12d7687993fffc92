from odoo.tests import HttpCase, tagged

from .common import MonitoringCase
from .test_trace import chain


@tagged("retail", "post_install", "-at_install")
class TestMonitoringUi(MonitoringCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend.name = "Tour Shop"
        chain(cls, "corr-tour-1", "#TOUR1")
        for _i in range(5):
            cls.message(cls.endpoint, ago=120, state="failed", lag=1)
        Flow = cls.env["retail.monitor.flow"]
        Flow._sync_flows()
        Flow.search([])._refresh_health()

    def test_dashboard_and_trace(self):
        self.start_tour(
            "/odoo/action-retail_integration_monitoring.retail_monitor_flow_action",
            "retail_integration_monitoring_dashboard_tour",
            login="admin",
        )
        self.start_tour(
            "/odoo/action-retail_integration_monitoring.retail_monitor_trace_action",
            "retail_integration_monitoring_trace_tour",
            login="admin",
        )
        traced = self.env["retail.monitor.trace"].search([("query", "=", "#TOUR1")])
        self.assertEqual(len(traced.line_ids), 7)
