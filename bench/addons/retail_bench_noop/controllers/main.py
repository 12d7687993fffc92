from odoo import http
from odoo.http import request


class NoopController(http.Controller):
    @http.route(
        "/retail/bench/noop",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def noop(self, **_params):
        return request.make_json_response({"status": "ok"})

    @http.route(
        "/retail/bench/insert",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def insert(self, **_params):
        """The least a durable accept can do: one INSERT, then Odoo's COMMIT."""
        request.env.cr.execute(
            "INSERT INTO retail_bench_row (body) VALUES (%s)",
            [request.httprequest.get_data(as_text=True)],
        )
        return request.make_json_response({"status": "ok"}, status=202)
