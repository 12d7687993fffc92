"""The ``webhook`` delivery mode: each delivery POSTed to the subscription's
URL, signed per Standard Webhooks, on the subscription's keep-alive session."""

import time

import requests

from odoo import fields, tools
from odoo.tools import config

from odoo.addons.retail_integration.lib import standard_webhooks

from ..lib import retry, ssrf, transports
from ..lib.events import excerpt

USER_AGENT = "Odoo-Retail-Outbox/1.0"


def allow_private_urls():
    """Whether the server configuration lets webhooks go to private addresses."""
    return tools.str2bool(str(config.get("retail_outbox_allow_private_urls") or False))


@transports.register("webhook")
class WebhookTransport(transports.Transport):
    signed = True

    def check(self, subscription):
        if not subscription.url:
            return subscription.env._(
                "%(name)s: a signed webhook needs a target URL.", name=subscription.name
            )
        try:
            ssrf.check_syntax(subscription.url)
        except ssrf.UnsafeURL as err:
            return subscription.env._("Target URL: %(reason)s.", reason=err)
        return None

    def target(self, subscription):
        return subscription.url

    def secrets(self, subscription):
        return subscription._signing_secrets()

    def refusal(self, subscription, secrets):
        try:
            ssrf.check_url(subscription.url, allow_private_urls())
        except ssrf.UnsafeURL as err:
            cause = subscription.env._(
                "The target URL of %(name)s is refused: %(reason)s. Change the "
                "URL, or ask the administrator to allow private URLs, then "
                "resume the subscription.",
                name=subscription.name,
                reason=err,
            )
            return str(err), cause, "ssrf"
        if not secrets[0]:
            cause = subscription.env._(
                "%(name)s has no signing secret, and nothing is sent unsigned. "
                "Rotate the secret, give it to the receiver, then resume the "
                "subscription.",
                name=subscription.name,
            )
            return "no secret", cause, "secret"
        return None

    def deliver(self, subscription, deliveries, session, secrets):
        specs = subscription.env["retail.outbox.event.type"]._specs()
        for delivery in deliveries:
            if subscription._resume_at():
                return  # the receiver asked to wait (Retry-After): no more now
            yield (delivery, *post(delivery, subscription, session, secrets, specs))


def post(delivery, subscription, session, secrets, specs=None):
    """POST ``delivery``, signed with each of ``secrets``; return
    (retry.Outcome, values of the attempt).

    HTTP and network failures are outcomes, never exceptions."""
    _ = delivery.env._
    event = delivery.event_id
    body = delivery._body()
    timestamp = int(time.time())
    headers = dict(subscription.extra_headers or {})
    headers.update(
        {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Correlation-Id": event.correlation_id,
            **delivery._contract_headers(specs),
            **standard_webhooks.headers(
                secrets[0], event.uuid, timestamp, body, *secrets[1:]
            ),
        }
    )
    start = time.perf_counter()
    status, answer, encoding = 0, b"", None
    try:
        response = session.post(
            subscription.url,
            data=body,
            headers=headers,
            timeout=subscription.timeout,
            allow_redirects=False,
        )
        # The charset the answer names, never guessed (requests' ``text``
        # runs a character-set detector when it names none).
        status, answer = response.status_code, response.content
        encoding = response.encoding
        outcome = retry.classify_response(
            status, response.headers.get("Retry-After"), time.time()
        )
    except ssrf.UnsafeURL as err:
        # The name resolved to a refused address when connecting, though
        # not at the batch's check (DNS rebinding?): nothing was sent.
        outcome = retry.Outcome(
            retry.RETRY, _("Refused at connect time: %(reason)s", reason=err)
        )
    except requests.Timeout:
        outcome = retry.Outcome(
            retry.RETRY, _("No answer within %(s)s s", s=subscription.timeout)
        )
    except requests.RequestException as err:
        outcome = retry.Outcome(retry.RETRY, _("Connection failed: %(err)s", err=err))
    return outcome, {
        "attempts": delivery.attempts + 1,
        "last_attempt": fields.Datetime.now(),
        "last_status_code": status,
        "response_excerpt": excerpt(answer, encoding=encoding),
        "latency_ms": int((time.perf_counter() - start) * 1000),
    }
