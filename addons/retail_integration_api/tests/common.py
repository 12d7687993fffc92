"""An API client on the storefront tests' generic backend, its key, stock
at the backend's warehouse, and a way to call the API over real HTTP."""

import json

from odoo.addons.retail_integration_storefront.tests.common import StorefrontMixin

from ..lib.routes import PREFIX

ALL_SCOPES = (
    "stock:read",
    "prices:read",
    "orders:write",
    "orders:read",
    "reservations:write",
    "returns:write",
)


class ApiMixin(StorefrontMixin):
    @classmethod
    def _setup_api(cls):
        cls._setup_storefront()
        env = cls.env
        cls.Scope = env["retail.api.scope"]
        cls.client_rec = cls._new_client("Test shop", ALL_SCOPES)
        cls.key, cls.key_rec = env["retail.api.key"]._generate(cls.client_rec)
        Quant = env["stock.quant"]
        stock = cls.warehouse.lot_stock_id
        Quant._update_available_quantity(cls.product_1, stock, 10)
        Quant._update_available_quantity(cls.product_2, stock, 3)
        cls.pricelist.item_ids = [
            (0, 0, {"product_id": cls.product_1.id, "fixed_price": 20.0}),
            (
                0,
                0,
                {
                    "product_id": cls.product_1.id,
                    "min_quantity": 10,
                    "fixed_price": 18.0,
                },
            ),
        ]
        cls.other_company = env["res.company"].create({"name": "Other Retail Co"})
        cls.other_warehouse = env["stock.warehouse"].search(
            [("company_id", "=", cls.other_company.id)], limit=1
        )

    @classmethod
    def _new_client(cls, name, scopes, **vals):
        return cls.env["retail.api.client"].create(
            {
                "name": name,
                "purpose": "Tests",
                "backend_id": cls.backend.id,
                "scope_ids": [
                    (
                        6,
                        0,
                        cls.env["retail.api.scope"]
                        .search([("code", "in", scopes)])
                        .ids,
                    )
                ],
                "rate_limit": 1000,
                "rate_burst": 1000,
                **vals,
            }
        )

    def call(self, method, path, key=None, body=None, headers=None, raw=None):
        headers = dict(headers or {})
        key = self.key if key is None else key
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = raw
        if body is not None:
            data = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        return self.opener.request(
            method,
            self.base_url() + PREFIX + path,
            data=data,
            headers=headers,
            timeout=30,
        )

    def assertProblem(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.headers["Content-Type"], "application/problem+json")
        body = response.json()
        self.assertEqual(body["type"], f"{PREFIX}/docs#problem-{code}")
        self.assertEqual(body["status"], status)
        return body
