import json
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.queue_job.job import Job

from ..models.retail_inbound_message import RetailInboundMessage
from .common import WebhookCase, drain_jobs


@tagged("retail", "-at_install", "post_install")
class TestLeastPrivilege(WebhookCase):
    """A backend's jobs and handlers run as its own technical user: its
    group's rights, its company's records, never the superuser's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.robot = cls.backend.technical_user_id
        cls.other_company = cls.env["res.company"].create({"name": "Other Co"})
        cls.other_product = cls.env["product.product"].create(
            {
                "name": "Other's widget",
                "default_code": "OTHER-1",
                "company_id": cls.other_company.id,
            }
        )

    def _run(self, handler, queued_in=None):
        """Queue a message as the accept path does (or, with ``queued_in``,
        as someone working in those companies does), and drain it as
        queue_job's runner would run the drain job: as the job's user."""
        message = self.env["retail.inbound.message"]._insert_once(
            self.endpoints["standard"],
            topic="probe",
            delivery_id=f"lp-{self.env['retail.inbound.message'].search_count([])}",
            body=json.dumps({"type": "probe"}),
            body_hash="h",
            headers={},
            state="received",
            correlation_id="c",
        )
        if queued_in:
            message = message.with_context(allowed_company_ids=queued_in.ids)
        message._enqueue()
        [job] = drain_jobs(self.env, self.backend)
        self.assertEqual(job.user_id, self.robot)
        handlers = patch.multiple(
            RetailInboundMessage,
            _webhook_handlers=lambda records: {("*", "probe"): "_handle_probe"},
            _handle_probe=handler,
            create=True,
        )
        with handlers:
            # the drain's batch, in the environment queue_job runs its job in
            backend = Job.load(self.env, job.uuid).recordset
            backend.env["retail.inbound.message"]._drain_batch(backend, 10)
        return message

    def test_the_technical_user(self):
        self.assertTrue(self.robot)
        self.assertFalse(self.robot.active, "no login")
        self.assertEqual(self.robot.company_ids, self.backend.company_id)
        self.assertTrue(
            self.robot.has_group("retail_integration.group_retail_connector")
        )
        self.assertFalse(self.robot.has_group("base.group_system"))
        self.assertFalse(self.robot._is_superuser())

    def test_the_handler_runs_as_the_technical_user(self):
        seen = []

        def handle(records, payload):
            seen.append((records.env.uid, records.env.su, records.env.company))
            return "seen"

        message = self._run(handle)
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(seen, [(self.robot.id, False, self.backend.company_id)])

    def test_a_retry_by_someone_in_two_companies_runs_in_the_backends(self):
        seen = []

        def handle(records, payload):
            seen.append((records.env.uid, records.env.companies))
            return "seen"

        both = self.backend.company_id | self.other_company
        message = self._run(handle, queued_in=both)
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(seen, [(self.robot.id, self.backend.company_id)])

    def test_another_companys_records_stay_out_of_reach(self):
        def handle(records, payload):
            products = records.env["product.product"]
            found = products.search([("default_code", "=", "OTHER-1")])
            if found:
                return "found another company's product"
            products.browse(self.other_product.id).name  # noqa: B018
            return "read another company's product"

        message = self._run(handle)
        self.assertEqual(message.state, "failed")
        self.assertIn(self.robot.name, message.error)
        self.assertIn("was refused", message.error)
        self.assertEqual(message.exception_id.kind, "configuration")

    def test_a_right_outside_the_group_fails_into_the_inbox_naming_it(self):
        def handle(records, payload):
            records.env["ir.config_parameter"].create(
                {"key": "retail.test.made_by_a_handler", "value": "1"}
            )
            return "wrote a system parameter"

        message = self._run(handle)
        self.assertEqual(message.state, "failed")
        self.assertIn("(ir.config_parameter)", message.error)
        self.assertIn("not allowed to create", message.error)
        self.assertTrue(message.exception_id)
        self.assertFalse(
            self.env["ir.config_parameter"].get_param("retail.test.made_by_a_handler")
        )
