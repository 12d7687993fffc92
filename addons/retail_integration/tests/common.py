"""Helpers for the suite's tests; other modules import them too."""

from contextlib import contextmanager
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase
from odoo.tools import config

from ..lib.secretbox import generate_key

TEST_KEY = generate_key()


def secret_key_patcher(current=TEST_KEY, previous=""):
    """Patch the server configuration's secrets key for a test."""
    return patch.dict(
        config.options,
        {"retail_secret_key": current, "retail_secret_key_previous": previous},
    )


class RetailCase(TransactionCase):
    """A company's backend, with a secrets key configured."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(secret_key_patcher())
        cls.backend = cls.env["retail.backend"].create(cls._backend_vals())

    @classmethod
    def _backend_vals(cls, **vals):
        return {
            "name": "Test Shop",
            "code": "test_shop",
            "channel_type": "storefront",
            "company_id": cls.env.company.id,
            **vals,
        }

    @contextmanager
    def committed_env(self):
        """A superuser environment on a cursor of its own that commits, as a
        concurrent worker's would. Usable from other threads: the transaction
        is bound to the loaded registry, since looking the registry up again
        waits for the lock the test runner holds."""
        with self.registry.cursor() as cr:
            cr.transaction = api.Transaction(self.registry)
            yield api.Environment(cr, SUPERUSER_ID, {})
