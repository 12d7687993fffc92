"""A storefront backend per provider with its webhook endpoint, products
with SKUs, and a way to feed it webhooks as the channel would."""

import functools
import itertools
import json
import time
from pathlib import Path

import jsonschema

from odoo.addons.retail_integration.tests.common import RetailCase, secret_key_patcher
from odoo.addons.retail_integration_webhook.tests.common import SECRETS

from . import payloads

SCHEMES = {"generic": "standard", "shopify": "shopify", "woocommerce": "woocommerce"}
_counter = itertools.count()
SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def generic_data(**overrides):
    """The generic sample order, selling the test products instead of the demo's."""
    data = payloads.generic_order(
        id="T-1",
        name="#T-1",
        total="62.00",
        customer={"id": "C-1", "email": "buyer@example.com", "name": "Buyer One"},
        lines=[
            {
                "id": "1",
                "sku": "SKU-1",
                "quantity": 2,
                "unit_price": "20.00",
                "discount": "5.00",
                "discount_code": "TENOFF",
            },
            {"id": "2", "sku": "SKU-2", "quantity": 1, "unit_price": "10.00"},
        ],
        shipping=[{"code": "standard", "name": "Standard", "price": "17.00"}],
    )
    data.update(overrides)
    return data


def storefront_subscription(backend):
    """The backend's outbox subscription in storefront mode (archived ones too)."""
    return (
        backend.env["retail.event.subscription"]
        .sudo()
        .with_context(active_test=False)
        .search(
            [("backend_id", "=", backend.id), ("delivery_mode", "=", "storefront")],
            limit=1,
        )
    )


class StorefrontMixin:
    @classmethod
    def _setup_storefront(cls):
        cls.startClassPatcher(secret_key_patcher())
        env = cls.env
        company = env.company
        cls.currency = company.currency_id
        Tax = env["account.tax"]
        cls.tax_excl = Tax.create(
            {
                "name": "Web 10%",
                "amount": 10,
                "type_tax_use": "sale",
                "price_include_override": "tax_excluded",
            }
        )
        cls.tax_incl = Tax.create(
            {
                "name": "Web 10% incl.",
                "amount": 10,
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
            }
        )
        cls.pricelist = env["product.pricelist"].create(
            {
                "name": "Test Web Prices",
                "currency_id": cls.currency.id,
                "company_id": company.id,
            }
        )
        Product = env["product.product"]
        cls.product_1 = Product.create(
            {
                "name": "Test Mug",
                "default_code": "SKU-1",
                "barcode": "BAR-1",
                "is_storable": True,
                "taxes_id": [(6, 0, [])],
            }
        )
        cls.product_2 = Product.create(
            {
                "name": "Test Cap",
                "default_code": "SKU-2",
                "is_storable": True,
                "taxes_id": [(6, 0, [])],
            }
        )
        cls.product_3 = Product.create(
            {
                "name": "Test Tee",
                "default_code": "SKU-3",
                "is_storable": True,
                "taxes_id": [(6, 0, cls.tax_excl.ids)],
            }
        )
        cls.shipping_product = Product.create(
            {"name": "Test Shipping", "type": "service", "taxes_id": [(6, 0, [])]}
        )
        cls.fee_product = Product.create(
            {
                "name": "Test Fees",
                "type": "service",
                "taxes_id": [(6, 0, cls.tax_excl.ids)],
            }
        )
        cls.warehouse = env["stock.warehouse"].search(
            [("company_id", "=", company.id)], limit=1
        )
        cls.backends, cls.endpoints = {}, {}
        for provider, scheme in SCHEMES.items():
            backend = env["retail.backend"].create(
                {
                    "name": f"Test {provider}",
                    "code": f"test_sf_{provider}",
                    "provider": provider,
                    "channel_type": "storefront",
                    "state": "active",
                    "warehouse_id": cls.warehouse.id,
                    "pricelist_id": cls.pricelist.id,
                    "storefront_shipping_product_id": cls.shipping_product.id,
                    "storefront_fee_product_id": cls.fee_product.id,
                }
            )
            cls.backends[provider] = backend
            cls.endpoints[provider] = env["retail.webhook.endpoint"].create(
                {
                    "name": f"{provider} hooks",
                    "backend_id": backend.id,
                    "scheme": scheme,
                    "secret": SECRETS[scheme],
                }
            )
        cls.backend = cls.backends["generic"]

    def order_data(self, **overrides):
        return generic_data(**{"currency": self.currency.name, **overrides})

    def receive(self, topic, data, provider="generic", delivery_id=None, process=True):
        """Store a webhook as the endpoint would, queue it, and run its job."""
        body = data
        if provider == "generic":
            body = {"type": topic, "timestamp": time.time(), "data": data}
        message = self.env["retail.inbound.message"]._insert_once(
            self.endpoints[provider],
            topic=topic,
            delivery_id=delivery_id or f"test-{next(_counter)}",
            body=json.dumps(body),
            body_hash="h",
            headers={},
            state="queued",
            correlation_id="test",
        )
        message._enqueue()
        if process:
            # as its job runs it: as the backend's technical user
            message.backend_id._as_technical_user(message)._process()
            message.invalidate_recordset()
            if (
                provider == "generic"
                and topic.startswith("order.")
                and (message.state == "done")
            ):
                # The contract: an order the importer takes, the schema takes.
                order_schema().validate(data)
        return message

    def order_of(self, external_id, provider="generic"):
        return self.env["retail.external.ref"]._find_record(
            self.backends[provider], "sale.order", external_id
        )


@functools.cache
def order_schema():
    """The published canonical order schema (schemas/order.v1.json)."""
    schema = json.loads((SCHEMAS / "order.v1.json").read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.FormatChecker()
    )


class StorefrontCase(StorefrontMixin, RetailCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_storefront()
