import threading

import psycopg2

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.retail_external_ref import ExternalRefConflict
from .common import RetailCase


@tagged("retail", "-at_install", "post_install")
class TestExternalRef(RetailCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.refs = cls.env["retail.external.ref"]
        cls.partner = cls.env["res.partner"].create({"name": "Ada"})

    def test_bind_and_look_up_both_ways(self):
        ref = self.refs._bind(self.backend, self.partner, 4711)
        self.assertEqual(ref.external_id, "4711")
        self.assertEqual(ref.company_id, self.backend.company_id)
        self.assertEqual(
            self.refs._find_record(self.backend, "res.partner", "4711"), self.partner
        )
        self.assertEqual(self.refs._external_id(self.backend, self.partner), "4711")
        self.assertFalse(self.refs._find_record(self.backend, "res.partner", "0"))
        self.assertFalse(self.refs._external_id(self.backend, self.env.user.partner_id))

    def test_bind_is_idempotent(self):
        first = self.refs._bind(self.backend, self.partner, "A1")
        self.assertEqual(self.refs._bind(self.backend, self.partner, "A1"), first)
        self.assertEqual(self.refs.search_count([("external_id", "=", "A1")]), 1)

    def test_ids_are_per_backend(self):
        other = self.env["retail.backend"].create(self._backend_vals(code="other_shop"))
        twin = self.env["res.partner"].create({"name": "Ada (other shop)"})
        self.refs._bind(self.backend, self.partner, "A1")
        self.refs._bind(other, twin, "A1")
        self.assertEqual(self.refs._find_record(other, "res.partner", "A1"), twin)

    def test_same_external_id_on_another_record_is_retryable(self):
        self.refs._bind(self.backend, self.partner, "A1")
        twin = self.env["res.partner"].create({"name": "Ada twin"})
        with self.assertRaises(ExternalRefConflict):
            self.refs._bind(self.backend, twin, "A1")

    def test_a_record_may_have_several_external_ids(self):
        self.refs._bind(self.backend, self.partner, "A1")
        self.refs._bind(self.backend, self.partner, "B2")
        found = self.refs._find_record(self.backend, "res.partner", "B2")
        self.assertEqual(found, self.partner)
        self.assertEqual(self.refs._external_id(self.backend, self.partner), "A1")

    def test_lookups_use_the_unique_indexes(self):
        self.refs._bind(self.backend, self.partner, "A1")
        self.env.flush_all()
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        for where, params in (
            ("backend_id = %s AND res_model = %s AND external_id = %s", ["A1"]),
            ("backend_id = %s AND res_model = %s AND res_id = %s", [self.partner.id]),
        ):
            self.env.cr.execute(
                f"EXPLAIN SELECT id FROM retail_external_ref WHERE {where}",
                [self.backend.id, "res.partner", *params],
            )
            plan = " ".join(row[0] for row in self.env.cr.fetchall())
            self.assertIn("Index", plan)


@tagged("retail", "-at_install", "post_install")
class TestExternalRefConcurrency(RetailCase):
    """Two workers importing the same customer at once, on committed data."""

    def setUp(self):
        super().setUp()
        with self.committed_env() as env:
            backend = env["retail.backend"].create(
                self._backend_vals(code="concurrency_shop")
            )
            self.backend_id = backend.id
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.committed_env() as env:
            env["res.partner"].search(
                [("name", "like", "Concurrent customer")]
            ).unlink()
            env["retail.backend"].browse(self.backend_id).unlink()

    def _import_customer(self, worker, created, results):
        """What an order import does: look up, else create and bind; on a
        conflict, retry."""
        for attempt in range(1, 6):
            try:
                with self.committed_env() as env:
                    backend = env["retail.backend"].browse(self.backend_id)
                    refs = env["retail.external.ref"]
                    partner = refs._find_record(backend, "res.partner", "C-1")
                    if not partner:
                        partner = env["res.partner"].create(
                            {"name": f"Concurrent customer {worker}"}
                        )
                        if attempt == 1:
                            created.wait(timeout=10)  # both have created theirs
                        refs._bind(backend, partner, "C-1")
                    results.append((worker, attempt, partner.id))
                return
            except ExternalRefConflict:
                continue
            except psycopg2.OperationalError as err:
                if err.pgcode != psycopg2.errorcodes.SERIALIZATION_FAILURE:
                    raise
        results.append((worker, "gave up", None))

    def _bind_after_other_committed(self, bind, other_bind):
        """Run ``bind`` in a transaction whose snapshot predates ``other_bind``,
        committed meanwhile on the same external id; the error it raises."""
        with self.committed_env() as env:
            backend = env["retail.backend"].browse(self.backend_id)
            refs = env["retail.external.ref"]
            self.assertFalse(refs._find_record(backend, "res.partner", "D-1"))
            with self.committed_env() as other:
                other_bind(other, other["retail.backend"].browse(self.backend_id))
            with self.assertRaises(psycopg2.OperationalError) as raised:
                with env.cr.savepoint():
                    bind(env, backend)
        return raised.exception

    @mute_logger("odoo.sql_db")
    def test_a_deletion_and_an_import_meanwhile_conflict(self):
        """The deleted marker has the key a binding would have: whichever
        commits second fails (and is retried) instead of missing the other."""

        def import_(env, backend):
            partner = env["res.partner"].create({"name": "Concurrent customer D"})
            env["retail.external.ref"]._bind(backend, partner, "D-1")

        def delete(env, backend):
            env["retail.external.ref"]._bind_deleted(backend, "res.partner", "D-1")

        for first, second in ((delete, import_), (import_, delete)):
            error = self._bind_after_other_committed(second, first)
            self.assertEqual(error.pgcode, psycopg2.errorcodes.SERIALIZATION_FAILURE)
            with self.committed_env() as env:
                env["retail.external.ref"].search(
                    [("backend_id", "=", self.backend_id)]
                ).unlink()
        with self.committed_env() as env:  # sees the backend setUp committed
            backend = env["retail.backend"].browse(self.backend_id)
            refs = env["retail.external.ref"]
            marker = refs._bind_deleted(backend, "res.partner", "D-2")
            self.assertEqual(refs._bind_deleted(backend, "res.partner", "D-2"), marker)
            self.assertEqual(refs._deleted_ref(backend, "res.partner", "D-2"), marker)
            self.assertFalse(refs._find_record(backend, "res.partner", "D-2"))
            self.assertIn("deleted", marker.display_name)

    @mute_logger("odoo.sql_db")
    def test_two_transactions_end_with_one_reference(self):
        created = threading.Barrier(2)
        results = []
        threads = [
            threading.Thread(target=self._import_customer, args=(n, created, results))
            for n in (1, 2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(len(results), 2, results)
        partner_ids = {partner_id for _worker, _attempt, partner_id in results}
        self.assertEqual(len(partner_ids), 1, f"both ended on one customer: {results}")
        self.assertEqual(sorted(attempt for _w, attempt, _p in results), [1, 2])
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT res_id FROM retail_external_ref WHERE backend_id = %s",
                [self.backend_id],
            )
            self.assertEqual([row[0] for row in cr.fetchall()], list(partner_ids))
            cr.execute(
                "SELECT count(*) FROM res_partner "
                "WHERE name LIKE 'Concurrent customer%%'"
            )
            self.assertEqual(
                cr.fetchone()[0], 1, "the loser's customer was rolled back"
            )

    def test_lock_turns_a_second_worker_away(self):
        with self.committed_env() as env1, self.committed_env() as env2:
            backend1 = env1["retail.backend"].browse(self.backend_id)
            backend2 = env2["retail.backend"].browse(self.backend_id)
            env1["retail.external.ref"]._lock_external_id(
                backend1, "sale.order", "1001"
            )
            with self.assertRaises(ExternalRefConflict) as turned_away:
                env2["retail.external.ref"]._lock_external_id(
                    backend2, "sale.order", "1001"
                )
            # A wait for another transaction, not a failure of this job: no
            # attempt spent (a message retried 8 times while another drain's
            # batches held one customer ended in the inbox).
            self.assertTrue(turned_away.exception.ignore_retry)
            self.assertEqual(turned_away.exception.seconds, 2)
            env2["retail.external.ref"]._lock_external_id(
                backend2, "sale.order", "1002"
            )
