import time

from odoo import http
from odoo.http import request

from ..lib import metrics

MAX_HEADER = 512


def _plain(status, text, headers=()):
    return request.make_response(
        text,
        headers=[("Content-Type", "text/plain; charset=utf-8"), *headers],
        status=status,
    )


class MonitoringController(http.Controller):
    @http.route(
        "/retail/metrics",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        readonly=True,
        save_session=False,
    )
    def metrics(self, **_params):
        """Prometheus exposition of every flow and KPI the token may read."""
        header = request.httprequest.headers.get("Authorization", "")[:MAX_HEADER]
        scheme, _sep, presented = header.partition(" ")
        challenge = [("WWW-Authenticate", 'Bearer realm="retail-metrics"')]
        if scheme.lower() != "bearer" or not presented.strip():
            return _plain(401, "A bearer token is required.\n", challenge)
        # sudo: auth='none': the bearer token is the authentication; it is
        # checked against the sealed tokens before anything is read
        token = (
            request.env["retail.monitor.token"].sudo()._authenticate(presented.strip())
        )
        if not token:
            return _plain(401, "Unknown token.\n", challenge)
        started = time.perf_counter()
        # sudo: as above; what is read is limited to the token's companies
        flows, kpis = (
            request.env["retail.monitor.flow"]
            .sudo()
            ._metrics_rows(token.company_ids.ids)
        )
        body = metrics.exposition(flows, kpis, time.perf_counter() - started)
        return request.make_response(
            body,
            headers=[
                ("Content-Type", metrics.CONTENT_TYPE),
                ("Cache-Control", "no-store"),
            ],
        )

    @http.route(
        "/retail/health",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        readonly=True,
        save_session=False,
    )
    def health(self, probe="ready", **_params):
        """Liveness (``?probe=live``: the server answers and its database
        too) or readiness (also: queue_job's runner holds its lock, no job
        channel is stalled). 200 when healthy, 503 otherwise. Says nothing a
        stranger could use: booleans and channel names."""
        # sudo: auth='none' for load balancers; the checks read no business data
        report = (
            request.env["retail.monitor.flow"]
            .sudo()
            ._health_report(live_only=probe == "live")
        )
        return request.make_json_response(
            report,
            headers=[("Cache-Control", "no-store")],
            status=200 if report["status"] == "ok" else 503,
        )
