from ..adapter import IMPORT, StorefrontAdapter, register_adapter
from .mapper import generic_order


@register_adapter("generic")
class GenericAdapter(StorefrontAdapter):
    """A storefront that posts the suite's canonical order JSON in Standard
    Webhooks envelopes; it has no API to call back."""

    webhook_topics = dict.fromkeys(
        (
            "order.created",
            "order.updated",
            "order.paid",
            "order.cancelled",
            "order.refunded",
        ),
        IMPORT,
    )
    topic_hints = {
        "order.paid": {"financial_status": "paid"},
        "order.cancelled": {"status": "cancelled"},
        "order.refunded": {"financial_status": "refunded"},
    }

    @classmethod
    def map_order(cls, payload):
        return generic_order(payload)

    @classmethod
    def webhook_order(cls, payload):
        """The order in the envelope's ``data``."""
        if isinstance(payload, dict) and "data" in payload:
            payload = payload["data"]
        return cls.map_order(payload)
