"""Signers for every scheme, written from each channel's documentation, and a
case with one endpoint per scheme. Other modules' tests import them."""

import base64
import hashlib
import hmac
import json
import time
import uuid

from odoo.addons.retail_integration.lib import standard_webhooks
from odoo.addons.retail_integration.tests.common import RetailCase, secret_key_patcher

SECRETS = {
    "standard": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "shopify": "shpss_0123456789abcdef0123456789abcdef",
    "woocommerce": "wc-secret-9f8e7d",
    "stripe": "whsec_stripe_test_secret_123",
    "github": "It's a Secret to Everybody",
}


def _b64_hmac(secret, data):
    return base64.b64encode(
        hmac.new(secret.encode(), data, hashlib.sha256).digest()
    ).decode()


def sign(scheme, body, secret=None, *, delivery_id=None, topic="ping", timestamp=None):
    """Headers a channel using ``scheme`` sends with ``body`` (bytes)."""
    secret = secret or SECRETS[scheme]
    delivery_id = delivery_id or uuid.uuid4().hex
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {"Content-Type": "application/json"}
    if scheme == "standard":
        headers.update(standard_webhooks.headers(secret, delivery_id, timestamp, body))
    elif scheme == "shopify":
        headers.update(
            {
                "X-Shopify-Hmac-Sha256": _b64_hmac(secret, body),
                "X-Shopify-Topic": topic,
                "X-Shopify-Webhook-Id": delivery_id,
                "X-Shopify-Shop-Domain": "demo.myshopify.com",
            }
        )
    elif scheme == "woocommerce":
        headers.update(
            {
                "X-WC-Webhook-Signature": _b64_hmac(secret, body),
                "X-WC-Webhook-Topic": topic,
                "X-WC-Webhook-Delivery-ID": delivery_id,
                "X-WC-Webhook-Source": "https://shop.example/",
            }
        )
    elif scheme == "stripe":
        signed = hmac.new(secret.encode(), b"%d.%s" % (timestamp, body), hashlib.sha256)
        headers["Stripe-Signature"] = f"t={timestamp},v1={signed.hexdigest()}"
    elif scheme == "github":
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers.update(
            {
                "X-Hub-Signature-256": f"sha256={digest}",
                "X-GitHub-Delivery": delivery_id,
                "X-GitHub-Event": topic,
            }
        )
    return headers


def ping_body(scheme, delivery_id="evt_1", topic="ping"):
    """A small payload; the schemes that name the topic in the body get it there."""
    payload = {"id": delivery_id, "data": {"note": "café"}}
    if scheme in ("standard", "stripe"):
        payload["type"] = topic
    return json.dumps(payload).encode()


def drain_jobs(env, backend):
    """The drain jobs queued for ``backend``'s messages."""
    return env["queue.job"].search(
        [("method_name", "=", "_webhook_drain"), ("channel", "=", backend.job_channel)]
    )


class WebhookCaseMixin:
    """One active endpoint per scheme on an active backend."""

    @classmethod
    def _setup_endpoints(cls):
        cls.startClassPatcher(secret_key_patcher())
        cls.backend = cls.env["retail.backend"].create(
            {"name": "Hook Shop", "code": "hook_shop", "state": "active"}
        )
        cls.endpoints = {
            scheme: cls.env["retail.webhook.endpoint"].create(
                {
                    "name": f"{scheme} endpoint",
                    "backend_id": cls.backend.id,
                    "scheme": scheme,
                    "secret": secret,
                }
            )
            for scheme, secret in SECRETS.items()
        }


class WebhookCase(WebhookCaseMixin, RetailCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_endpoints()
