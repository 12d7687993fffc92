import hashlib
import json
import logging
import re
import time
import typing
import uuid

from markupsafe import Markup, escape
from pydantic import BaseModel, ValidationError

from odoo import http
from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from ..lib import openapi, problems, routes, v1  # noqa: F401  (v1 registers routes)
from ..lib.problems import Problem

_logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
CORRELATION_HEADER = "X-Correlation-Id"
# The escape of a NUL character in a JSON string (not an escaped backslash
# followed by "u0000"): PostgreSQL's text cannot hold it.
NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


# key prefix -> when this worker last recorded its use (time.monotonic())
_touched = {}


def _touch_due(prefix):
    """Whether this call records the key's and client's last use: at most
    once a minute per worker."""
    now = time.monotonic()
    if now - _touched.get(prefix, -3600) < 60:
        return False
    _touched[prefix] = now
    return True


def _json(body):
    return json.dumps(body, separators=(",", ":"), default=str).encode()


def _query(route, args):
    """The route's query model from the query string (lists comma-separated)."""
    if route.query is None:
        return None
    values = {}
    for name, info in route.query.model_fields.items():
        if name not in args:
            continue
        value = args.get(name)
        if typing.get_origin(info.annotation) is list:
            value = [part for part in value.split(",") if part.strip()]
        values[name] = value
    unknown = set(args) - set(route.query.model_fields)
    for name in unknown:
        values[name] = args.get(name)  # refused by the model (extra="forbid")
    try:
        return route.query.model_validate(values)
    except ValidationError as err:
        raise problems.from_validation_error(err, "query") from err


def _body(route, httprequest):
    if route.method != "POST" or (route.body is None and not route.raw_body):
        return None
    if (httprequest.content_length or 0) > MAX_BODY:
        raise Problem("payload_too_large", f"At most {MAX_BODY} bytes.")
    content_type = httprequest.headers.get("Content-Type", "").split(";")[0].strip()
    if content_type.lower() != "application/json":
        raise Problem("unsupported_media_type")
    if httprequest.content_length is None and httprequest.headers.get(
        "Transfer-Encoding"
    ):
        # A chunked body says nothing of its size, and would be read whole.
        raise Problem("length_required")
    httprequest.max_content_length = MAX_BODY
    raw = httprequest.get_data()
    if NUL.search(raw):
        raise Problem(
            "validation_error",
            "The body holds a NUL character (\\u0000), which no field accepts.",
        )
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as err:  # RecursionError: nested too deep
        raise Problem(
            "validation_error",
            "The body is not JSON.",
            [{"pointer": "#/", "in": "body", "detail": str(err)}],
        ) from err
    if route.body is None:
        if not isinstance(data, dict):
            raise Problem("validation_error", "The body must be a JSON object.")
        return data
    try:
        return route.body.model_validate(data)
    except ValidationError as err:
        raise problems.from_validation_error(err) from err


class RetailApiController(http.Controller):
    @http.route(
        f"{routes.PREFIX}/openapi.json",
        type="http",
        auth="none",
        methods=["GET"],
        save_session=False,
    )
    def openapi_json(self):
        return request.make_json_response(openapi.document())

    @http.route(
        f"{routes.PREFIX}/docs",
        type="http",
        auth="none",
        methods=["GET"],
        save_session=False,
    )
    def docs(self):
        """A readable reference page, written from the same document."""
        doc = openapi.document()
        parts = [
            Markup("<!DOCTYPE html><html><head><meta charset='utf-8'>"),
            Markup("<title>Retail Integration API v1</title>"),
            Markup(
                "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
                "code,pre{background:#f4f4f4}h3{margin-bottom:0}</style></head><body>"
            ),
            Markup("<h1>Retail Integration API v1</h1><p>%s</p>")
            % doc["info"]["description"],
            Markup("<p>Machine-readable: <a href='openapi.json'>openapi.json</a>. "),
            Markup(
                "Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>.</p>"
            ),
        ]
        for path, ops in doc["paths"].items():
            for method, op in ops.items():
                parts.append(
                    Markup("<h3><code>%s %s</code></h3><p>%s %s%s</p>")
                    % (
                        method.upper(),
                        path,
                        op["summary"],
                        op.get("description", ""),
                        Markup(" <b>Deprecated.</b>") if op.get("deprecated") else "",
                    )
                )
                body = (
                    op.get("requestBody", {})
                    .get("content", {})
                    .get("application/json", {})
                )
                if body.get("example"):
                    parts.append(
                        Markup("<pre>%s</pre>") % json.dumps(body["example"], indent=2)
                    )
                codes = ", ".join(f"{s}" for s in op["responses"])
                parts.append(Markup("<p>Answers: %s</p>") % codes)
        parts.append(Markup("<h2>Problems</h2><dl>"))
        for code, (status, title) in problems.PROBLEMS.items():
            parts.append(
                Markup("<dt id='problem-%s'><code>%s</code> (%s)</dt><dd>%s</dd>")
                % (code, problems.type_uri(code), status, title)
            )
        parts.append(Markup("</dl></body></html>"))
        html = Markup("").join(escape(p) for p in parts)
        return request.make_response(
            str(html), headers=[("Content-Type", "text/html; charset=utf-8")]
        )

    @http.route(
        f"{routes.PREFIX}/<path:subpath>",
        type="http",
        auth="none",
        methods=None,  # every method reaches us: a problem+json 405
        csrf=False,
        readonly=False,
        save_session=False,
    )
    def dispatch(self, subpath, **_params):
        httprequest = request.httprequest
        started = time.perf_counter()
        correlation_id = (httprequest.headers.get(CORRELATION_HEADER) or "")[:64] or (
            uuid.uuid4().hex
        )
        audit = {
            "client_id": None,
            "company_id": None,
            "key_prefix": None,
            "method": httprequest.method,
            # the path as asked, until a route matches (no control character:
            # PostgreSQL's text cannot hold NUL)
            "route": routes.CONTROL.sub("?", f"{routes.PREFIX}/{subpath}")[:200],
            "problem": None,
            "correlation_id": correlation_id,
            "remote_addr": httprequest.remote_addr,
            "touch": False,
        }
        headers = {CORRELATION_HEADER: correlation_id}
        try:
            route, params = routes.match(httprequest.method, f"/{subpath}")
            audit["route"] = routes.PREFIX + route.path
            headers.update(route.deprecation_headers())
            status, body = self._serve(route, params, audit, headers)
        except Problem as problem:
            status, body = (
                problem.status,
                problem.body(httprequest.path, correlation_id),
            )
            audit["problem"] = problem.code
            headers.update(problem.headers)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # Odoo runs the request again
        except Exception:
            _logger.exception("API call failed (correlation id %s)", correlation_id)
            problem = Problem("internal_error", f"Correlation id {correlation_id}.")
            status, body = (
                problem.status,
                problem.body(httprequest.path, correlation_id),
            )
            audit["problem"] = problem.code
            request.env.cr.rollback()
        response = self._response(status, body, headers, audit)
        audit["status"] = response.status_code
        audit["latency_ms"] = (time.perf_counter() - started) * 1000
        # sudo: auth='none'; the audit row is the API's own bookkeeping
        request.env["retail.api.call"].sudo()._record(
            audit, read=httprequest.method in ("GET", "HEAD")
        )
        return response

    def _serve(self, route, params, audit, headers):
        httprequest = request.httprequest
        # sudo: auth='none': the key is the authentication
        Client = request.env["retail.api.client"].sudo()
        client, access = Client._authenticate(
            httprequest.headers, httprequest.remote_addr, audit
        )
        audit["touch"] = _touch_due(access.key_prefix)
        if route.scope and route.scope not in access.scopes:
            raise Problem(
                "insufficient_scope",
                f"This route needs the scope {route.scope}.",
                headers={
                    "WWW-Authenticate": f'Bearer error="insufficient_scope", '
                    f'scope="{route.scope}"'
                },
            )
        if not client._config().backend_active:
            # Only active backends exchange data (a paused one, a neutralized
            # copy's): the channel tries again later.
            raise Problem(
                "backend_unavailable",
                "The client's backend is paused; try again later.",
                headers={"Retry-After": "300"},
            )
        wait = client._take_rate_token()
        if wait:
            raise Problem("rate_limited", headers={"Retry-After": str(wait)})
        query = _query(route, httprequest.args)
        body = _body(route, httprequest)
        service = client._as_technical_user(
            request.env["retail.api.service"],
            retail_correlation_id=audit["correlation_id"],
        )
        handler = getattr(service, route.handler)
        if route.method == "GET":
            return handler(client, params, query, body)
        if not route.idempotent:
            # A refused request leaves nothing behind (a customer it created).
            with request.env.cr.savepoint():
                return handler(client, params, query, body)
        return self._idempotent(route, client, handler, params, query, body, headers)

    def _idempotent(self, route, client, handler, params, query, body, headers):
        idem_key = request.httprequest.headers.get("Idempotency-Key", "").strip()
        if not idem_key or len(idem_key) > 255:
            raise Problem("idempotency_key_required")
        body_hash = hashlib.sha256(_json(body)).hexdigest()
        # sudo: the idempotency store is the API's own bookkeeping
        Store = request.env["retail.api.idempotency"].sudo()
        cr = request.env.cr
        first = Store._claim(client, idem_key, route.path, body_hash)
        if first:
            if first.body_hash != body_hash:
                raise Problem("idempotency_key_reused")
            if not first.status:
                raise Problem("idempotency_in_progress", headers={"Retry-After": "1"})
            headers["Idempotent-Replayed"] = "true"
            return first.status, json.loads(first.response)
        # A refused request keeps neither its effects nor the key.
        try:
            with cr.savepoint():
                status, answer = handler(client, params, query, body)
        except Exception:
            cr.execute(
                "DELETE FROM retail_api_idempotency WHERE client_id = %s AND key = %s",
                (client.id, idem_key),
            )
            raise
        Store._store(client, idem_key, status, answer)
        return status, answer

    def _response(self, status, body, headers, audit):
        is_problem = status >= 400
        payload = _json(
            body.model_dump(mode="json") if isinstance(body, BaseModel) else body
        )
        if not is_problem and request.httprequest.method in ("GET", "HEAD"):
            tag = routes.etag(payload)
            headers["ETag"] = tag
            headers["Cache-Control"] = "private, no-cache"
            if routes.etag_matches(
                request.httprequest.headers.get("If-None-Match"), tag
            ):
                return request.make_response(
                    b"", headers=list(headers.items()), status=304
                )
        content_type = problems.MEDIA_TYPE if is_problem else "application/json"
        headers["Content-Type"] = content_type
        return request.make_response(
            payload, headers=list(headers.items()), status=status
        )
