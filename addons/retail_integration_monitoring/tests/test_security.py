from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import MonitoringCase


@tagged("retail", "post_install", "-at_install")
class TestCompanies(MonitoringCase):
    """A user sees the flows, numbers, incidents and KPIs of their companies
    only; a metrics token reads its companies only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Monitoring B"})
        cls.backend_b = cls.make_backend("Shop B", "shop_b", company=cls.company_b)
        cls.endpoint_b = cls.make_endpoint(cls.backend_b, "B hooks")
        for _i in range(5):  # enough to breach
            cls.message(cls.endpoint, ago=60, state="failed", lag=1)
            cls.message(cls.endpoint_b, ago=60, state="failed", lag=1)
        user_group = cls.env.ref("retail_integration.group_retail_user")
        cls.user_b = cls.env["res.users"].create(
            {
                "name": "B operator",
                "login": "b_operator",
                "company_id": cls.company_b.id,
                "company_ids": [(6, 0, cls.company_b.ids)],
                "groups_id": [(6, 0, [user_group.id])],
            }
        )
        Flow = cls.env["retail.monitor.flow"]
        Flow._sync_flows()
        Flow.search([])._refresh_health(cls.now)
        cls.env["retail.monitor.rollup"]._cron_rollup(cls.now)
        cls.env["retail.monitor.kpi.value"]._refresh(cls.now)
        cls.env["retail.monitor.incident"]._evaluate(Flow.search([]), cls.now)

    def test_user_sees_own_company_only(self):
        env = self.env(user=self.user_b)
        for model in (
            "retail.monitor.flow",
            "retail.monitor.rollup",
            "retail.monitor.kpi.value",
            "retail.monitor.incident",
        ):
            records = env[model].search([])
            self.assertTrue(records, model)
            self.assertEqual(records.company_id, self.company_b, model)
        self.assertEqual(
            self.env["retail.monitor.flow"].search([]).company_id,
            self.env.company | self.company_b,
        )

    def test_token_reads_its_companies(self):
        Flow = self.env["retail.monitor.flow"]
        rows, kpis = Flow._metrics_rows(self.company_b.ids)
        self.assertEqual({r["company"] for r in rows}, {"Monitoring B"})
        self.assertEqual({k["company"] for k in kpis}, {"Monitoring B"})
        rows, _kpis = Flow._metrics_rows([])
        self.assertIn(self.env.company.name, {r["company"] for r in rows})

    def test_user_cannot_change_slas(self):
        flow = (
            self.env["retail.monitor.flow"].with_user(self.user_b).search([], limit=1)
        )
        with self.assertRaises(AccessError):
            flow.max_lag_seconds = 1
