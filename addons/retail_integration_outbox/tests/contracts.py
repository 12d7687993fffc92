"""The published contracts (schemas/*.json, JSON Schema 2020-12) and a check
of envelopes against them. ``OutboxCase`` checks every event its tests write;
other modules' tests may call ``CONTRACTS.breach(envelope)`` on theirs.

The check is stricter than the published schemas: a field the schema does
not list is a breach too (receivers ignore unknown fields, but a field the
outbox sends must be documented, so adding one means adding it to the
schema: an additive change, same version)."""

import json
from pathlib import Path

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import best_match

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
ENVELOPE = "envelope.v1"


def schema_name(event_type, version):
    return f"{event_type}.v{version}"


def load(name, directory=SCHEMA_DIR):
    with open(directory / f"{name}.json", encoding="utf-8") as file:
        return json.load(file)


def _documented_properties(validator, properties, instance, schema):
    yield from Draft202012Validator.VALIDATORS["properties"](
        validator, properties, instance, schema
    )
    if validator.is_type(instance, "object") and "additionalProperties" not in schema:
        for name in sorted(set(instance) - set(properties)):
            yield ValidationError(f"{name!r} is not documented in the schema")


StrictValidator = validators.extend(
    Draft202012Validator, {"properties": _documented_properties}
)


class Contracts:
    """Schemas by name (``order.confirmed.v1``), read from ``schemas/`` once;
    ``add`` registers one from elsewhere (a test's own event type)."""

    def __init__(self):
        self.validators = {}

    def add(self, name, schema):
        Draft202012Validator.check_schema(schema)
        self.validators[name] = StrictValidator(schema)

    def remove(self, name):
        self.validators.pop(name, None)

    def validator(self, name):
        if name not in self.validators:
            self.add(name, load(name))
        return self.validators[name]

    def breach(self, envelope):
        """Why ``envelope`` (the body a receiver gets, parsed) breaks its
        contract, in words, or None."""
        name = schema_name(envelope.get("type"), envelope.get("version"))
        for schema, instance in ((ENVELOPE, envelope), (name, envelope.get("data"))):
            try:
                validator = self.validator(schema)
            except FileNotFoundError:
                return f"no schema {schema}.json for this event type and version"
            error = best_match(validator.iter_errors(instance))
            if error:
                return f"{schema}.json: {error.message} at {error.json_path}"
        return None


CONTRACTS = Contracts()
