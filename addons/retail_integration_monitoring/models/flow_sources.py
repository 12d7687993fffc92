"""The flows of the modules this one depends on: webhooks per endpoint,
outbox deliveries per subscription, and the storefront's orders in and its
stock, prices, products and shipments out. Other connectors register theirs
from their own code (readme/CONFIGURE.md)."""

from odoo.addons.retail_integration_outbox.lib.events import (
    PRICE_CHANGED,
    PRODUCT_CHANGED,
    SHIPMENT_DISPATCHED,
    STOCK_LEVEL_CHANGED,
)
from odoo.addons.retail_integration_storefront.lib.adapter import (
    ADAPTERS,
    IMPORT,
    REFUND,
    RESTORE,
)

from ..lib import flows, sources


def _backends(env, domain):
    # sudo: discovery runs for the cron, which sees every company's flows
    return env["retail.backend"].sudo().search(domain)


@flows.register_source("webhook.endpoint")
class WebhookEndpointFlows(sources.InboundMessageSource):
    """Every webhook endpoint: what it received and how processing went."""

    label = "webhooks in"
    data_kind = "webhooks"
    purpose = "Channel notifications received and processed."
    group_by = "m.endpoint_id"
    max_lag_seconds = 300

    def discover(self, env):
        # sudo: as above
        endpoints = env["retail.webhook.endpoint"].sudo().search([])
        return [
            flows.FlowRef(
                str(e.id),
                f"{e.backend_id.name} · {e.name}",
                e.backend_id.id,
                e.company_id.id,
                e._name,
                e.id,
            )
            for e in endpoints
        ]


@flows.register_source("outbox.subscription")
class OutboxSubscriptionFlows(sources.OutboxDeliverySource):
    """Every subscription whose deliveries no specific source measures (a
    connector's API subscription is measured per kind of data)."""

    label = "events out"
    data_kind = "events"
    purpose = "Business events delivered to a subscriber."
    where = "NOT (s.delivery_mode = ANY(%(modes)s))"
    subscription_where = where
    max_lag_seconds = 600

    def params(self, env):
        return {"modes": sorted(flows.SPECIFIC_DELIVERY_MODES)}

    def discover(self, env):
        # sudo: as above
        subs = (
            env["retail.event.subscription"]
            .sudo()
            .search(
                [("delivery_mode", "not in", sorted(flows.SPECIFIC_DELIVERY_MODES))]
            )
        )
        return [
            flows.FlowRef(
                str(s.id),
                f"{s.name} · {self.label}",
                s.backend_id.id,
                s.company_id.id,
                s._name,
                s.id,
            )
            for s in subs
        ]


def _order_topics():
    actions = (IMPORT, RESTORE, REFUND)
    return sorted(
        {
            topic
            for adapter in ADAPTERS.values()
            for topic, action in adapter.webhook_topics.items()
            if action in actions
        }
    )


@flows.register_source("storefront.orders_in")
class StorefrontOrdersIn(sources.InboundMessageSource):
    """Order webhooks of a storefront backend (every provider's order and
    refund topics), per backend."""

    label = "orders in"
    data_kind = "orders"
    purpose = "Channel orders become confirmed sale orders."
    classification = "personal"
    max_lag_seconds = 120
    max_failure_rate = 0.02
    where = "b.channel_type = 'storefront' AND m.topic = ANY(%(topics)s)"

    def params(self, env):
        return {"topics": _order_topics()}

    def discover(self, env):
        backends = _backends(env, [("channel_type", "=", "storefront")])
        return [
            flows.FlowRef(str(b.id), f"{b.name} · {self.label}", b.id, b.company_id.id)
            for b in backends
        ]

    def records_domain(self, ref):
        return [("backend_id", "=", int(ref)), ("topic", "in", _order_topics())]


class StorefrontExport(sources.OutboxDeliverySource):
    """One kind of data a storefront backend publishes through its API
    subscription (``delivery_mode = 'storefront'``), per backend."""

    direction = "out"
    claims_delivery_modes = ("storefront",)
    flag = None
    event_type = None
    group_by = "d.backend_id"
    circuit_by = "s.backend_id"
    where = "s.delivery_mode = 'storefront' AND d.event_type = %(type)s"
    subscription_where = "s.delivery_mode = 'storefront'"

    def params(self, env):
        return {"type": self.event_type}

    def discover(self, env):
        backends = _backends(
            env, [("channel_type", "=", "storefront"), (self.flag, "=", True)]
        )
        return [
            flows.FlowRef(str(b.id), f"{b.name} · {self.label}", b.id, b.company_id.id)
            for b in backends
        ]

    def records_domain(self, ref):
        return [
            ("backend_id", "=", int(ref)),
            ("event_type", "=", self.event_type),
        ]


@flows.register_source("storefront.stock_out")
class StorefrontStockOut(StorefrontExport):
    label = "stock out"
    data_kind = "stock"
    purpose = "Free quantities published so that the channel does not oversell."
    flag = "storefront_export_stock"
    event_type = STOCK_LEVEL_CHANGED
    max_lag_seconds = 300


@flows.register_source("storefront.prices_out")
class StorefrontPricesOut(StorefrontExport):
    label = "prices out"
    data_kind = "prices"
    purpose = "Prices of the backend's pricelist published to the channel."
    classification = "public"
    flag = "storefront_export_prices"
    event_type = PRICE_CHANGED
    max_lag_seconds = 900


@flows.register_source("storefront.products_out")
class StorefrontProductsOut(StorefrontExport):
    label = "products out"
    data_kind = "products"
    purpose = "Product names and status published to the channel."
    classification = "public"
    flag = "storefront_export_products"
    event_type = PRODUCT_CHANGED
    max_lag_seconds = 1800


@flows.register_source("storefront.shipments_out")
class StorefrontShipmentsOut(StorefrontExport):
    label = "shipments out"
    data_kind = "shipments"
    purpose = "Fulfilments with carrier and tracking number sent to the channel."
    classification = "personal"
    flag = "storefront_export_fulfilment"
    event_type = SHIPMENT_DISPATCHED
    max_lag_seconds = 900
