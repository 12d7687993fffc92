from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import RetailCase


@tagged("retail", "-at_install", "post_install")
class TestSyncException(RetailCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Exception = cls.env["retail.sync.exception"]
        cls.order_partner = cls.env["res.partner"].create({"name": "Web customer"})

    def _report_unknown_sku(self, sku="SKU-1", **kwargs):
        return self.Exception._report(
            f"No product has the SKU {sku}.",
            name=f"Unknown SKU {sku}",
            backend=self.backend,
            kind="mapping",
            detail=f"line_items[0].sku = {sku!r}",
            document=self.order_partner,
            key=f"unknown_sku:{sku}",
            **kwargs,
        )

    def test_report_records_the_problem(self):
        exc = self._report_unknown_sku()
        self.assertRecordValues(
            exc,
            [
                {
                    "name": "Unknown SKU SKU-1",
                    "backend_id": self.backend.id,
                    "company_id": self.backend.company_id.id,
                    "kind": "mapping",
                    "state": "new",
                    "occurrence_count": 1,
                    "res_model": "res.partner",
                    "res_id": self.order_partner.id,
                    "document_name": "Web customer",
                    "retryable": False,
                }
            ],
        )

    def test_repeats_group_into_one_record(self):
        with freeze_time("2026-01-01 10:00:00"):
            first = self._report_unknown_sku()
        with freeze_time("2026-01-01 11:00:00"):
            again = self._report_unknown_sku()
            self._report_unknown_sku()
        self.assertEqual(first, again)
        first.invalidate_recordset()
        self.assertEqual(first.occurrence_count, 3)
        self.assertEqual(str(first.first_seen), "2026-01-01 10:00:00")
        self.assertEqual(str(first.last_seen), "2026-01-01 11:00:00")
        other = self._report_unknown_sku("SKU-2")
        self.assertNotEqual(other, first)

    def test_one_cause_across_sources_can_group(self):
        first, second = self.env["res.partner"].create([{"name": "M1"}, {"name": "M2"}])
        kwargs = {"backend": self.backend, "key": "sku:X", "per_source": False}
        grouped = self.Exception._report("Unknown SKU X", source=first, **kwargs)
        self.assertEqual(
            self.Exception._report("Unknown SKU X", source=second, **kwargs), grouped
        )
        self.assertEqual(grouped.source_id, first.id)
        separate = self.Exception._report("Unknown SKU X", source=second, key="sku:X")
        self.assertNotEqual(separate, grouped)

    def test_a_closed_problem_that_returns_is_new_again(self):
        first = self._report_unknown_sku()
        first.action_resolve()
        second = self._report_unknown_sku()
        self.assertNotEqual(first, second)
        self.assertEqual(second.state, "new")
        with self.assertRaisesRegex(UserError, "already open"):
            first.action_reopen()
        second.action_dismiss()
        first.action_reopen()
        self.assertEqual(first.state, "new")

    def test_company_falls_back_to_the_document(self):
        company = self.env["res.company"].create({"name": "Store Co"})
        partner = self.env["res.partner"].create(
            {"name": "Local", "company_id": company.id}
        )
        exc = self.Exception._report("Bad address", document=partner)
        self.assertEqual(exc.company_id, company)

    def test_take_resolve_dismiss(self):
        exc = self._report_unknown_sku()
        exc.action_take()
        self.assertEqual((exc.state, exc.user_id), ("in_progress", self.env.user))
        exc.action_resolve()
        self.assertEqual(exc.state, "resolved")
        exc.action_reopen()
        exc.action_dismiss()
        self.assertEqual(exc.state, "dismissed")

    def test_retry_calls_the_source_and_success_resolves(self):
        partner_model = type(self.env["res.partner"])
        calls = []
        with patch.object(
            partner_model,
            "_retail_exception_retry",
            lambda records: calls.append(records.ids),
            create=True,
        ):
            exc = self.Exception._report(
                "Timeout", backend=self.backend, source=self.order_partner
            )
            self.assertTrue(exc.retryable)
            exc.action_retry()
            self.assertEqual(calls, [[self.order_partner.id]])
            self.assertEqual(exc.state, "in_progress")
            self.assertIn("Retry requested", exc.message_ids[0].body)
            resolved = self.Exception._resolve_for(self.order_partner)
        self.assertEqual(resolved, exc)
        self.assertEqual(exc.state, "resolved")

    def test_retry_without_a_retryable_source_is_refused(self):
        exc = self._report_unknown_sku()
        with self.assertRaisesRegex(UserError, "cannot be retried"):
            exc.action_retry()

    def test_open_document_and_source(self):
        exc = self.Exception._report(
            "Timeout", document=self.order_partner, source=self.backend
        )
        self.assertEqual(exc.action_open_document()["res_id"], self.order_partner.id)
        self.assertEqual(exc.action_open_source()["res_model"], "retail.backend")
        self.order_partner.unlink()
        exc.invalidate_recordset()
        self.assertFalse(exc.document_name)
        with self.assertRaisesRegex(UserError, "no longer exists"):
            exc.action_open_document()
