from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import RetailCase

OPERATIONS = ("read", "write", "create", "unlink")
NONE, READ, RESOLVE, REPORT, ALL = "", "r", "rw", "rwc", "rwcu"


@tagged("retail", "-at_install", "post_install")
class TestAccessMatrix(RetailCase):
    """Who may do what, for every model of the module."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.users = {
            "public": cls.env.ref("base.public_user"),
            "portal": new_test_user(cls.env, "ri_portal", groups="base.group_portal"),
            "internal": new_test_user(cls.env, "ri_internal", groups="base.group_user"),
            "integration_user": new_test_user(
                cls.env, "ri_user", groups="retail_integration.group_retail_user"
            ),
            "integration_manager": new_test_user(
                cls.env, "ri_manager", groups="retail_integration.group_retail_manager"
            ),
        }
        cls.backend.action_activate()
        cls.users["connector"] = cls.backend.technical_user_id
        cls.exception = cls.env["retail.sync.exception"]._report(
            "Something failed", backend=cls.backend
        )
        cls.ref = cls.env["retail.external.ref"]._bind(
            cls.backend, cls.env.ref("base.main_partner"), "P-1"
        )

    EXPECTED = {
        # model: {user: operations}
        "retail.backend": {
            "public": NONE,
            "portal": NONE,
            "internal": NONE,
            "integration_user": READ,
            "integration_manager": ALL,
            "connector": READ,
        },
        "retail.external.ref": {
            "public": NONE,
            "portal": NONE,
            "internal": NONE,
            "integration_user": READ,
            "integration_manager": ALL,
            "connector": REPORT,
        },
        "retail.sync.exception": {
            "public": NONE,
            "portal": NONE,
            "internal": NONE,
            "integration_user": RESOLVE,
            "integration_manager": ALL,
            "connector": REPORT,
        },
    }

    def test_access_matrix(self):
        records = {
            "retail.backend": self.backend,
            "retail.external.ref": self.ref,
            "retail.sync.exception": self.exception,
        }
        for model, expected in self.EXPECTED.items():
            for who, allowed in expected.items():
                user = self.users[who]
                for operation in OPERATIONS:
                    with self.subTest(model=model, user=who, operation=operation):
                        record = records[model].with_user(user)
                        has = record.has_access(operation)
                        self.assertEqual(has, operation[0] in allowed)

    def test_menu_visibility(self):
        root = self.env.ref("retail_integration.menu_retail_root")
        configuration = self.env.ref("retail_integration.menu_retail_configuration")
        for who, sees_app, sees_configuration in (
            ("internal", False, False),
            ("integration_user", True, False),
            ("integration_manager", True, True),
        ):
            with self.subTest(user=who):
                menus = (
                    self.env["ir.ui.menu"]
                    .with_user(self.users[who])
                    .search([("id", "in", (root + configuration).ids)])
                )
                self.assertEqual(root in menus, sees_app)
                self.assertEqual(configuration in menus, sees_configuration)

    def test_users_only_see_their_companies(self):
        other_company = self.env["res.company"].create({"name": "Franchise Co"})
        foreign = self.env["retail.backend"].create(
            self._backend_vals(code="franchise_shop", company_id=other_company.id)
        )
        foreign_exc = self.env["retail.sync.exception"]._report("Down", backend=foreign)
        foreign_ref = self.env["retail.external.ref"]._bind(
            foreign, self.env.ref("base.main_partner"), "P-9"
        )
        manager = self.users["integration_manager"]
        for model, record in (
            ("retail.backend", foreign),
            ("retail.sync.exception", foreign_exc),
            ("retail.external.ref", foreign_ref),
        ):
            with self.subTest(model=model):
                visible = self.env[model].with_user(manager).search([])
                self.assertNotIn(record, visible)
                with self.assertRaises(AccessError):
                    record.with_user(manager).check_access("read")
        manager.write({"company_ids": [(4, other_company.id)]})
        visible = (
            self.env["retail.backend"]
            .with_user(manager)
            .with_context(allowed_company_ids=[manager.company_id.id, other_company.id])
            .search([])
        )
        self.assertIn(foreign, visible)
