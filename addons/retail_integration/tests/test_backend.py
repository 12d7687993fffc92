import psycopg2

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import RetailCase


@tagged("retail", "-at_install", "post_install")
class TestBackend(RetailCase):
    def test_backend_gets_its_own_job_channel(self):
        self.assertEqual(self.backend.job_channel, "root.retail.test_shop")
        self.backend.code = "test_shop_eu"
        self.assertEqual(self.backend.job_channel, "root.retail.test_shop_eu")

    def test_jobs_run_on_the_backend_channel_as_its_technical_user(self):
        admin = self.env.ref("base.user_admin")
        other = self.env["res.company"].create({"name": "Elsewhere Ltd"})
        admin.company_ids |= other
        queuing = self.backend.with_user(admin).with_context(
            allowed_company_ids=(self.backend.company_id | other).ids
        )
        with trap_jobs() as trap:
            queuing._with_delay(queuing).read(["name"])
            trap.assert_jobs_count(1)
            job = trap.enqueued_jobs[0]
            self.assertEqual(job.channel, "root.retail.test_shop")
            self.assertEqual(job.user_id, self.backend.technical_user_id.id)
            self.assertEqual(
                job.recordset.env.context["allowed_company_ids"],
                self.backend.company_id.ids,
                "the backend's company only",
            )
            trap.perform_enqueued_jobs()
        self.assertEqual(job.result[0]["name"], self.backend.name)
        # what the connector group does not grant, its jobs cannot do
        state = self.backend.state
        with trap_jobs() as trap:
            queuing._with_delay(queuing).action_pause()
            with self.assertRaises(AccessError):
                trap.perform_enqueued_jobs()
        self.assertEqual(self.backend.state, state)

    def test_unlink_removes_the_channel(self):
        channel = self.backend.job_channel_id
        self.backend.unlink()
        self.assertFalse(channel.exists())

    def test_code_must_be_an_identifier(self):
        for bad in ("Shop EU", "shop-eu", "", "x" * 41):
            with self.assertRaises(ValidationError), self.cr.savepoint():
                self.env["retail.backend"].create(self._backend_vals(code=bad))

    @mute_logger("odoo.sql_db")
    def test_code_is_unique(self):
        with self.assertRaises(psycopg2.IntegrityError), self.cr.savepoint():
            self.env["retail.backend"].create(self._backend_vals(name="Twin"))

    def test_states(self):
        self.assertEqual(self.backend.state, "draft")
        self.backend.action_activate()
        self.assertEqual(self.backend.state, "active")
        self.backend.action_pause()
        self.assertEqual(self.backend.state, "paused")
        self.backend.action_draft()
        self.assertEqual(self.backend.state, "draft")

    def test_warehouse_must_belong_to_the_company(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", other.id)], limit=1
        )
        with self.assertRaises(UserError):
            self.backend.warehouse_id = warehouse

    def test_open_exception_count_and_action(self):
        exceptions = self.env["retail.sync.exception"]
        exceptions._report("First problem", backend=self.backend, key="a")
        exceptions._report("Second problem", backend=self.backend, key="b")
        exceptions._report("Second problem", backend=self.backend, key="b")
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.open_exception_count, 2)
        action = self.backend.action_open_exceptions()
        self.assertEqual(
            self.env["retail.sync.exception"].search_count(action["domain"]), 2
        )
