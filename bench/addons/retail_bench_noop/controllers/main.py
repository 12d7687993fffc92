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
