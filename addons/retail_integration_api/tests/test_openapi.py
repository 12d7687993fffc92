import jsonschema
from openapi_spec_validator import validate

from odoo.tests import HttpCase, tagged

from ..lib import problems, routes
from .common import ApiMixin


@tagged("retail", "-at_install", "post_install")
class TestOpenApi(ApiMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_api()

    def document(self):
        response = self.url_open(f"{routes.PREFIX}/openapi.json")
        self.assertEqual(response.status_code, 200)
        return response.json()

    def check(self, document, schema_ref, instance):
        """``instance`` against the document's schema at ``schema_ref``."""
        schema = {"$ref": schema_ref, "components": document["components"]}
        jsonschema.Draft202012Validator(schema).validate(instance)

    def test_document_is_valid_openapi_3_1(self):
        document = self.document()
        self.assertEqual(document["openapi"], "3.1.0")
        validate(document)
        operations = {
            (method.upper(), path)
            for path, ops in document["paths"].items()
            for method in ops
        }
        self.assertEqual(
            operations, {(r.method, routes.PREFIX + r.path) for r in routes.ROUTES}
        )

    def test_every_example_matches_its_schema(self):
        document = self.document()
        checked = 0
        for ops in document["paths"].values():
            for op in ops.values():
                bodies = [op.get("requestBody", {}).get("content", {})] + [
                    answer.get("content", {}) for answer in op["responses"].values()
                ]
                for content in bodies:
                    media = content.get("application/json")
                    if media and "example" in media:
                        self.check(document, media["schema"]["$ref"], media["example"])
                        checked += 1
        self.assertGreaterEqual(checked, len(routes.ROUTES) + 3)

    def test_real_answers_match_the_document(self):
        document = self.document()
        ref = "#/components/schemas/{}"
        stock = self.call("GET", "/stock?skus=SKU-1").json()
        self.check(document, ref.format("StockOut"), stock)
        prices = self.call("GET", "/prices?skus=SKU-1").json()
        self.check(document, ref.format("PriceOut"), prices)
        problem = self.call("GET", "/stock").json()
        self.check(document, ref.format("Problem"), problem)
        order = self.order_data(id="DOC-1")
        self.check(document, ref.format("Order"), order)
        created = self.call(
            "POST", "/orders", body=order, headers={"Idempotency-Key": "doc"}
        ).json()
        self.check(document, ref.format("OrderSubmitted"), created)
        status = self.call("GET", "/orders/DOC-1").json()
        self.check(document, ref.format("OrderOut"), status)

    def test_reference_page_documents_every_problem_type(self):
        response = self.url_open(f"{routes.PREFIX}/docs")
        self.assertEqual(response.status_code, 200)
        self.assertIn("text/html", response.headers["Content-Type"])
        for code in problems.PROBLEMS:
            self.assertIn(f"id='problem-{code}'", response.text)
        for route in routes.ROUTES:
            self.assertIn(routes.PREFIX + route.path, response.text)
