"""Errors as RFC 9457 problem details (``application/problem+json``).

Each problem has a stable ``type``: a URI naming it on the API's reference
page, where it is described. Clients branch on ``type``, never on ``title``
or ``detail``, which may be reworded.
"""

DOCS = "/retail/api/v1/docs"
MEDIA_TYPE = "application/problem+json"

# code: (status, title)
PROBLEMS = {
    "unauthenticated": (401, "Missing or invalid API key"),
    "forbidden_ip": (403, "Caller address not allowed"),
    "insufficient_scope": (403, "The key's client lacks the scope this route needs"),
    "warehouse_forbidden": (403, "Warehouse outside the client's restrictions"),
    "not_found": (404, "No such resource"),
    "method_not_allowed": (405, "Method not allowed on this resource"),
    "not_acceptable": (406, "Only JSON is served"),
    "conflict": (409, "The resource is not in a state that allows this"),
    "idempotency_key_reused": (
        409,
        "The Idempotency-Key was used with another request body",
    ),
    "idempotency_in_progress": (
        409,
        "A request with this Idempotency-Key is still being processed",
    ),
    "insufficient_stock": (409, "Not enough free stock"),
    "length_required": (411, "Send the body with a Content-Length"),
    "payload_too_large": (413, "The body is too large"),
    "unsupported_media_type": (415, "Send application/json"),
    "validation_error": (422, "The request is not valid"),
    "idempotency_key_required": (428, "Send an Idempotency-Key header"),
    "rate_limited": (429, "Too many requests"),
    "internal_error": (500, "Internal error"),
    "backend_unavailable": (503, "The client's channel backend is not active"),
}


def type_uri(code):
    return f"{DOCS}#problem-{code}"


class Problem(Exception):
    """A refusal the API answers with; ``errors``: the fields at fault."""

    def __init__(self, code, detail=None, errors=None, headers=None):
        super().__init__(detail or PROBLEMS[code][1])
        self.code = code
        self.status = PROBLEMS[code][0]
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    def body(self, instance=None, correlation_id=None):
        body = {
            "type": type_uri(self.code),
            "title": PROBLEMS[self.code][1],
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if correlation_id:
            body["correlation_id"] = correlation_id
        if self.errors:
            body["errors"] = self.errors
        return body


def from_validation_error(err, where="body"):
    """The 422 of a pydantic ``ValidationError``: one entry per field, with a
    JSON pointer to it."""
    errors = []
    for item in err.errors(include_url=False, include_context=False):
        parts = [str(part) for part in item["loc"]]
        errors.append(
            {
                # a JSON pointer into the body; a parameter's name (and index)
                "pointer": "#/" + "/".join(parts)
                if where == "body"
                else ".".join(parts),
                "in": where,
                "detail": item["msg"],
            }
        )
    return Problem("validation_error", f"{len(errors)} invalid field(s).", errors)
