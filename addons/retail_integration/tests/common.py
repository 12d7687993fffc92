"""Helpers for the suite's tests; other modules import them too."""

import os
from contextlib import contextmanager
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase
from odoo.tools import config

from ..lib.secretbox import generate_key

TEST_KEY = generate_key()


def configured_keys():
    """The keys the server was started with: what demo data was sealed with."""
    keys = [
        config.get("retail_secret_key") or os.environ.get("RETAIL_SECRET_KEY") or "",
        config.get("retail_secret_key_previous") or "",
    ]
    return ",".join(k for k in keys if k)


def secret_key_patcher(current=TEST_KEY, previous=""):
    """Patch the server configuration's secrets key for a test. The keys the
    server was started with stay readable, as previous keys."""
    previous = ",".join(k for k in (previous, configured_keys()) if k)
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

    def as_connector(self, records, backend=None):
        """``records`` as a job of ``backend`` (default: their own) runs
        them: as its technical user, in its company."""
        if backend is None:
            is_backend = records._name == "retail.backend"
            backend = records if is_backend else records.backend_id
        return backend._as_technical_user(records)

    @contextmanager
    def committed_env(self):
        """A superuser environment on a cursor of its own that commits, as a
        concurrent worker's would. Usable from other threads: the transaction
        is bound to the loaded registry, since looking the registry up again
        waits for the lock the test runner holds."""
        with self.registry.cursor() as cr:
            cr.transaction = api.Transaction(self.registry)
            yield api.Environment(cr, SUPERUSER_ID, {})
