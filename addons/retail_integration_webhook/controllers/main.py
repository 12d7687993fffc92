from odoo import http
from odoo.http import request

from ..lib.request import InboundRequest
from ..models.retail_webhook_endpoint import global_max_body_size


class WebhookController(http.Controller):
    @http.route(
        "/retail/webhook/<string:token>",
        type="http",
        auth="none",
        methods=None,  # every method reaches us, so that the answer is a JSON 405
        csrf=False,
        readonly=False,
        save_session=False,
        max_content_length=lambda _self: global_max_body_size(),
    )
    def receive(self, token, **_params):
        httprequest = request.httprequest

        def read_body(limit):
            httprequest.max_content_length = limit
            return httprequest.get_data()

        inbound = InboundRequest(
            method=httprequest.method,
            headers={k.lower(): v for k, v in httprequest.headers.items()},
            content_length=httprequest.content_length,
            read_body=read_body,
            form=httprequest.form.to_dict(),
            url=httprequest.url,
        )
        # sudo: auth='none': no user; the endpoint's token, signature and checks are the
        # authentication
        outcome = request.env["retail.webhook.endpoint"].sudo()._receive(token, inbound)
        return request.make_json_response(
            outcome.body, headers=list(outcome.headers.items()), status=outcome.status
        )
