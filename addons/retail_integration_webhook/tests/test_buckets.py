import os
from unittest.mock import patch

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from odoo.tests import TransactionCase, tagged

from ..lib import autocommit, buckets

TABLE = "retail_webhook_endpoint_runtime"


@tagged("retail", "-at_install", "post_install")
class TestTokenLeases(TransactionCase):
    """The shared bucket is written on the worker's own connection (committed
    at once): each test uses a key no endpoint has and deletes its row."""

    def setUp(self):
        super().setUp()
        self.dbname = self.env.cr.dbname
        self.key = -(abs(hash(self.id())) % 10**9) - 1  # no endpoint's id
        self.addCleanup(self.shared, f"DELETE FROM {TABLE} WHERE endpoint_id = %s")
        self.addCleanup(buckets._leases.clear)

    def shared(
        self, query="SELECT tokens, granted FROM {table} WHERE endpoint_id = %s"
    ):
        return autocommit.execute(
            self.dbname, query.format(table=TABLE), [self.key]
        ) or [None]

    def take(self, rate=0.001, burst=100):
        return buckets.take(self.dbname, TABLE, "endpoint_id", self.key, rate, burst)

    def test_lease_size_is_a_twentieth_of_the_burst_at_most_16(self):
        self.assertEqual(
            [buckets.lease_size(b) for b in (1, 5, 39, 40, 100, 320, 100000)],
            [1, 1, 1, 2, 5, 16, 16],
        )

    def test_a_lease_spends_its_tokens_before_the_shared_bucket_is_asked_again(self):
        self.assertEqual(self.take(), 0)
        [(tokens, granted)] = self.shared()
        self.assertEqual((tokens, granted), (95, 5), "5 tokens leased at once")
        for _n in range(4):
            self.assertEqual(self.take(), 0)
        [(tokens, _granted)] = self.shared()
        self.assertEqual(round(tokens), 95, "the lease's 4 other tokens: no write")
        self.assertEqual(self.take(), 0)
        [(tokens, granted)] = self.shared()
        self.assertEqual((round(tokens), granted), (90, 5), "the next lease")

    def test_new_settings_start_a_new_lease(self):
        self.take(burst=100)
        self.take(burst=200)  # the endpoint's burst changed: the old lease is left
        [(tokens, granted)] = self.shared()
        self.assertEqual((round(tokens), granted), (85, 10))

    def test_an_unspent_lease_expires_after_a_second(self):
        now = [1000.0]
        with patch.object(buckets.time, "monotonic", lambda: now[0]):
            self.take()
            now[0] += buckets.LEASE_SECONDS + 0.1
            self.take()
        [(tokens, _granted)] = self.shared()
        self.assertEqual(round(tokens), 90, "its 4 tokens were not spent")

    def test_the_last_tokens_are_leased_then_the_wait_is_told(self):
        rate, burst = 0.01, 40  # leases of 2
        granted = [self.take(rate, burst) for _n in range(40)]
        self.assertEqual(granted, [0] * 40, "the burst, whole")
        self.assertGreaterEqual(self.take(rate, burst), 99, "1 token / 0.01 per s")
        [(tokens, granted)] = self.shared()
        self.assertLess(tokens, 1)
        self.assertEqual(granted, 0)

    def test_a_burst_below_40_takes_a_token_per_request(self):
        for expected in (4, 3, 2):
            self.take(burst=5)
            [(tokens, granted)] = self.shared()
            self.assertEqual((round(tokens), granted), (expected, 1))


@tagged("retail", "-at_install", "post_install")
class TestPreparedStatements(TransactionCase):
    def test_prepared_once_per_connection_and_again_on_a_new_one(self):
        dbname = self.env.cr.dbname
        query = "SELECT %(a)s::int + %(b)s::int, %(a)s::int"
        run = lambda a, b: autocommit.execute(  # noqa: E731
            dbname, query, {"a": a, "b": b}, prepared="retail_test_sum"
        )
        self.assertEqual(run(2, 3), [(5, 2)])
        self.assertEqual(run(4, 5), [(9, 4)], "executed by name")
        [(count,)] = autocommit.execute(
            dbname,
            "SELECT count(*) FROM pg_prepared_statements WHERE name = %s",
            ["retail_test_sum"],
        )
        self.assertEqual(count, 1)
        autocommit._connections[os.getpid()][1].close()  # the server dropped it
        self.assertEqual(run(1, 1), [(2, 1)], "prepared again on the new one")

    def test_without_waiting_for_the_disk_in_one_round_trip(self):
        dbname = self.env.cr.dbname
        autocommit.execute(
            dbname, "CREATE TEMPORARY TABLE retail_test_nowait (n int PRIMARY KEY)"
        )
        insert = "INSERT INTO retail_test_nowait VALUES (%(n)s)"
        run = lambda n: autocommit.execute(  # noqa: E731
            dbname, insert, {"n": n}, prepared="retail_test_nowait", wait_for_disk=False
        )
        self.assertIsNone(run(1))
        cnx = autocommit._connections[os.getpid()][1]
        self.assertEqual(
            cnx.info.transaction_status,
            psycopg2.extensions.TRANSACTION_STATUS_IDLE,
            "committed, not left in a transaction",
        )
        with self.assertRaises(psycopg2.errors.UniqueViolation):
            run(1)
        self.assertEqual(
            cnx.info.transaction_status,
            psycopg2.extensions.TRANSACTION_STATUS_IDLE,
            "the failed transaction rolled back",
        )
        run(2)
        self.assertEqual(
            autocommit.execute(dbname, "SELECT n FROM retail_test_nowait ORDER BY n"),
            [(1,), (2,)],
        )
        [(setting,)] = autocommit.execute(dbname, "SHOW synchronous_commit")
        self.assertEqual(setting, "on", "only for those transactions")
        autocommit.execute(dbname, "DROP TABLE retail_test_nowait")
