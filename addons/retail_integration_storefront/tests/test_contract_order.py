import json

import jsonschema

from odoo.tests import BaseCase, tagged

from ..lib.generic.mapper import generic_order
from . import payloads
from .common import generic_data, order_schema


@tagged("retail", "-at_install", "post_install")
class TestOrderContract(BaseCase):
    """schemas/order.v1.json is what the generic mapper takes: every order the
    tests import is checked against it (StorefrontMixin.receive), and here
    the schema refuses what the mapper refuses for its shape."""

    def test_the_schema_is_valid_and_takes_the_samples(self):
        jsonschema.Draft202012Validator.check_schema(order_schema().schema)
        for sample in (payloads.generic_order(), generic_data()):
            order_schema().validate(sample)
            generic_order(json.loads(json.dumps(sample)))

    def test_what_the_mapper_refuses_for_its_shape_the_schema_refuses(self):
        line = {"sku": "SKU-1", "quantity": 1, "unit_price": "1.00"}
        broken = {
            "no id": {"id": None},
            "a negative quantity": {"lines": [{**line, "quantity": -1}]},
            "a quantity too large": {"lines": [{**line, "quantity": 100001}]},
            "a price as a list": {"lines": [{**line, "unit_price": [1]}]},
            "lines as an object": {"lines": {"0": line}},
            "too many lines": {"lines": [line] * 501},
            "a text too long": {"name": "n" * 513},
            "an unknown status": {"status": "shipped"},
            "a boolean tax flag as text": {"prices_include_tax": "yes"},
            "a negative total": {"total": "-1.00"},
        }
        for label, change in broken.items():
            with self.subTest(label):
                payload = payloads.generic_order(**change)
                self.assertFalse(order_schema().is_valid(payload))
                with self.assertRaises(ValueError):
                    generic_order(payload)
