"""The OpenAPI 3.1 document of the API, written from the route table and the
pydantic models."""

import json
from pathlib import Path

from pydantic.json_schema import models_json_schema

from . import problems, routes, schemas

REF = "#/components/schemas/{model}"
ORDER_SCHEMA = (
    Path(__file__).resolve().parents[2]
    / "retail_integration_storefront"
    / "schemas"
    / "order.v1.json"
)
VERSION = "1.0.0"


def _query_parameters(model):
    params = []
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", ()))
    for name, prop in schema["properties"].items():
        if prop.get("type") == "array":
            # sent comma-separated
            prop = {
                "type": "string",
                "description": prop.get("description", ""),
                "examples": ["SKU-1,SKU-2"],
            }
        params.append(
            {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": {k: v for k, v in prop.items() if k != "title"},
            }
        )
    return params


def _order_schema():
    """The canonical order JSON, the same document the generic storefront's
    webhooks follow."""
    schema = json.loads(ORDER_SCHEMA.read_text())
    schema.pop("$schema", None)
    defs = schema.pop("$defs", {})
    text = json.dumps(schema).replace('"#/$defs/', '"#/components/schemas/Order_')
    defs = json.loads(
        json.dumps(defs).replace('"#/$defs/', '"#/components/schemas/Order_')
    )
    return json.loads(text), {f"Order_{k}": v for k, v in defs.items()}


def _problem_response(codes):
    names = ", ".join(f"`{c}`" for c in codes)
    return {
        "description": f"Problem details ({names}).",
        "content": {
            problems.MEDIA_TYPE: {"schema": {"$ref": REF.format(model="Problem")}}
        },
    }


def _operation(route):
    """The OpenAPI operation of ``route``."""
    op = {
        "operationId": route.handler,
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": [],
        "responses": {},
    }
    if route.scope:
        op["security"] = [{"apiKey": [route.scope]}, {"bearer": [route.scope]}]
        op["description"] = f"Scope: `{route.scope}`."
    for name in route.pattern.groupindex:
        op["parameters"].append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            }
        )
    if route.query:
        op["parameters"] += _query_parameters(route.query)
    if route.idempotent:
        op["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": "The same key and body answer the first answer "
                "again; another body: 409.",
            }
        )
    if route.method == "GET":
        op["parameters"].append(
            {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}
        )
    if route.body is not None or route.raw_body:
        ref = REF.format(model=route.raw_body or route.body.__name__)
        content = {"schema": {"$ref": ref}}
        if route.example_request:
            content["example"] = route.example_request
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": content},
        }
    ok = {"description": "OK"}
    if route.response is not None:
        content = {"schema": {"$ref": REF.format(model=route.response.__name__)}}
        if route.example_response:
            content["example"] = route.example_response
        ok["content"] = {"application/json": content}
    op["responses"][str(route.status)] = ok
    if route.method == "GET":
        op["responses"]["304"] = {"description": "Not modified (ETag)."}
    codes = [
        "unauthenticated",
        "forbidden_ip",
        "insufficient_scope",
        "rate_limited",
        "internal_error",
        "backend_unavailable",
        *route.errors,
    ]
    if route.body is not None or route.raw_body:
        codes += ["length_required", "payload_too_large", "unsupported_media_type"]
    by_status = {}
    for code in dict.fromkeys(codes):
        by_status.setdefault(problems.PROBLEMS[code][0], []).append(code)
    for status, status_codes in sorted(by_status.items()):
        op["responses"][str(status)] = _problem_response(status_codes)
    if route.deprecated:
        op["deprecated"] = True
    return op


def document(server_url=""):
    models = {schemas.Problem}
    for route in routes.ROUTES:
        for model in (route.body, route.response):
            if model is not None:
                models.add(model)
    _, top = models_json_schema(
        [
            (m, "validation" if m is not schemas.Problem else "serialization")
            for m in models
        ],
        ref_template=REF,
    )
    components = dict(top.get("$defs", {}))
    order, order_defs = _order_schema()
    components["Order"] = order
    components.update(order_defs)

    paths = {}
    for route in routes.ROUTES:
        paths.setdefault(routes.PREFIX + route.path, {})[route.method.lower()] = (
            _operation(route)
        )

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Retail Integration API",
            "version": VERSION,
            "description": "Stock, prices, orders, click-and-collect reservations "
            "and returns. Errors are RFC 9457 problem details; their `type` is "
            f"stable. Reference: {problems.DOCS}",
        },
        "servers": [{"url": server_url or "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            },
        },
    }
