from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user

from odoo.addons.retail_integration.tests.common import RetailCase

from ..lib import inventory


class TestInventory(RetailCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = new_test_user(
            cls.env, "gov_owner", groups="retail_integration.group_retail_manager"
        )
        cls.backend.write(
            {
                "user_id": cls.owner.id,
                "purpose": "Web shop orders in",
                "review_date": fields.Date.today() - timedelta(days=1),
            }
        )
        cls.endpoint = cls.env["retail.webhook.endpoint"].create(
            {
                "name": "Shop hooks",
                "backend_id": cls.backend.id,
                "topics": "orders/create",
            }
        )
        cls.subscription = cls.env["retail.event.subscription"].create(
            {
                "name": "Shop stock",
                "backend_id": cls.backend.id,
                "url": "https://hooks.example.com/in",
                "data_classification": "internal",
                "review_date": fields.Date.today() + timedelta(days=30),
                "event_type_ids": cls.env.ref(
                    "retail_integration_outbox.event_type_order_confirmed"
                ).ids,
            }
        )
        cls.Inventory = cls.env["retail.integration.inventory"]

    def row(self, record):
        return self.Inventory.search(
            [("res_model", "=", record._name), ("res_id", "=", record.id)]
        )

    def test_rows_inherit_the_backends_governance(self):
        self.env.flush_all()
        backend, endpoint, sub = map(
            self.row, (self.backend, self.endpoint, self.subscription)
        )
        self.assertEqual(backend.kind, "backend")
        self.assertEqual(backend.owner_id, self.owner)
        self.assertEqual(backend.data_classification, "personal")
        self.assertEqual(backend.scopes, "storefront: generic")
        self.assertTrue(backend.review_overdue)
        self.assertEqual(
            (endpoint.owner_id, endpoint.purpose, endpoint.scopes),
            (self.owner, "Web shop orders in", "in: orders/create"),
        )
        self.assertTrue(endpoint.review_overdue)  # the backend's date
        self.assertEqual(sub.data_classification, "internal")
        self.assertEqual(sub.scopes, "out: order.confirmed")
        self.assertFalse(sub.review_overdue)
        self.assertEqual(sub.id, self.subscription.id * 16 + 3)
        self.assertEqual(sub.action_open_record()["res_id"], self.subscription.id)

    def receive(self, delivery_id, when):
        self.env["retail.inbound.message"]._insert_once(
            self.endpoint,
            topic="ping",
            delivery_id=delivery_id,
            correlation_id=None,
            body="{}",
            body_hash=None,
            headers={},
            state="done",
            now=when,
        )

    def test_last_use_and_unused_flag(self):
        old = fields.Datetime.now() - timedelta(days=200)
        self.env.cr.execute(
            "UPDATE retail_webhook_endpoint SET create_date = %s WHERE id = %s",
            [old, self.endpoint.id],
        )
        self.receive("last-use-1", old + timedelta(days=10))
        self.env["retail.webhook.endpoint"]._cron_refresh_last_message()
        self.assertEqual(self.endpoint.last_used_at, old + timedelta(days=10))
        self.assertEqual(self.backend.last_used_at, old + timedelta(days=10))
        self.env.invalidate_all()
        self.assertTrue(self.row(self.endpoint).unused)
        self.assertFalse(self.row(self.subscription).unused)  # created today
        self.env["ir.config_parameter"].set_param(inventory.UNUSED_DAYS_PARAM, "365")
        self.env.invalidate_all()
        self.assertFalse(self.row(self.endpoint).unused)
        # Only messages since the previous scan are read: a newer one moves it.
        self.receive("last-use-2", fields.Datetime.now())
        self.assertEqual(
            self.env["retail.webhook.endpoint"]._cron_refresh_last_message(), 1
        )
        self.assertGreater(self.endpoint.last_used_at, old + timedelta(days=10))

    def test_overdue_review_gives_the_owner_one_activity_per_review(self):
        Inventory = self.Inventory
        notices = Inventory._cron_review_activities()
        mine = notices.filtered(
            lambda n: (
                (n.res_model, n.res_id)
                in {(r._name, r.id) for r in (self.backend, self.endpoint)}
            )
        )
        self.assertEqual(mine.mapped("res_model"), ["retail.backend"])
        activity = self.backend.activity_ids
        self.assertEqual(activity.user_id, self.owner)
        self.assertIn("Review", activity.summary)
        # The endpoint is reviewed with its backend; the subscription's own
        # review is not due.
        self.assertFalse(self.endpoint.activity_ids)
        self.assertFalse(self.subscription.activity_ids)
        self.endpoint.review_date = fields.Date.today() - timedelta(days=1)
        self.assertEqual(
            Inventory._cron_review_activities().mapped("res_model"),
            ["retail.webhook.endpoint"],
        )
        self.assertEqual(self.endpoint.activity_ids.user_id, self.owner)
        # Daily: not again for the same review date...
        self.assertFalse(
            Inventory._cron_review_activities().filtered(
                lambda n: n.res_id == self.backend.id
            )
        )
        # ...but again once a new review date has passed too.
        self.backend.review_date = fields.Date.today() - timedelta(days=2)
        again = Inventory._cron_review_activities()
        self.assertEqual(
            len(
                again.filtered(
                    lambda n: (
                        n.res_model == "retail.backend" and n.res_id == self.backend.id
                    )
                )
            ),
            1,
        )
        self.assertEqual(len(self.backend.activity_ids), 2)

    def test_other_company_rows_hidden(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        backend = self.env["retail.backend"].create(
            {"name": "Other shop", "code": "gov_other", "company_id": other.id}
        )
        self.env.flush_all()
        as_owner = self.Inventory.with_user(self.owner).with_context(
            allowed_company_ids=self.owner.company_ids.ids
        )
        names = as_owner.search([]).mapped("name")
        self.assertIn(self.backend.name, names)
        self.assertNotIn(backend.name, names)
        self.assertTrue(self.Inventory.search([("name", "=", "Other shop")]))

    def test_a_registered_source_adds_its_rows(self):
        @inventory.register_source("gov_test_users")
        class Users(inventory.Source):
            label = "Test users"
            number = 15
            model = "res.users"

            def select(self, env):
                return """
                    SELECT u.id AS res_id, u.login AS name, u.company_id,
                           NULL::int AS backend_id, u.id AS owner_id,
                           NULL::text AS purpose,
                           'internal'::varchar AS data_classification,
                           'test' AS scopes, NULL::timestamp AS last_used_at,
                           NULL::date AS review_date, NULL::varchar AS sla,
                           u.active AS live, u.create_date
                      FROM res_users u WHERE u.login = 'gov_owner'
                """

        self.addCleanup(self.Inventory.env.registry.clear_cache)
        self.addCleanup(inventory.SOURCES.unregister, "gov_test_users")
        self.env.registry.clear_cache()
        row = self.Inventory.search([("kind", "=", "gov_test_users")])
        self.assertEqual((row.name, row.id), ("gov_owner", self.owner.id * 16 + 15))
