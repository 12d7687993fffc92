"""What the storefront module asks of a provider, and where providers are found.

A provider is one :class:`StorefrontAdapter` subclass in a package of its own
(``lib/generic``, ``lib/shopify``, ``lib/woocommerce``), registered under its
key with :func:`register_adapter`; the models look it up by
``backend.provider`` in :data:`ADAPTERS` and never name a provider. The class
says what the provider takes in (webhook topics, the order mapper) and what
it supports; an instance, made with the backend's :class:`Settings`, talks to
the channel's API (``has_api``). Errors are the core's
:mod:`~odoo.addons.retail_integration.lib.api_errors`.
"""

from collections import namedtuple
from dataclasses import dataclass
from typing import NamedTuple

from odoo.addons.retail_integration.lib.registry import Registry

ADAPTERS = Registry("storefront provider")
register_adapter = ADAPTERS.register

# What a webhook topic asks of the importer.
IMPORT = "import"  # create or update the order
RESTORE = "restore"  # the channel restored a deleted order: import it again
DELETE = "delete"  # the channel deleted the order
REFUND = "refund"  # a refund was made on the channel


# The backend's connection settings, as the adapter needs them.
Settings = namedtuple(
    "Settings", "shop_url api_version api_key api_secret", defaults=("", "", "")
)


@dataclass(frozen=True)
class Shipment:
    """A channel order's dispatched delivery."""

    order_id: str
    lines: tuple  # (sku, the channel's variant id or None, quantity)
    carrier: str = ""
    tracking_ref: str = ""
    tracking_url: str = ""
    note: str = ""  # the customer note that names the shipment


@dataclass(frozen=True)
class NewVariant:
    """One sellable variant of a product to create on the channel."""

    sku: str
    price: str
    compare_at_price: str = ""
    barcode: str = ""
    weight: float = 0.0  # kg
    options: tuple = ()  # ((option name, value), ...)


@dataclass(frozen=True)
class NewProduct:
    """A product to create on the channel, with its variants."""

    title: str
    variants: tuple  # NewVariant
    description: str = ""
    vendor: str = ""
    tags: tuple = ()
    active: bool = True
    options: tuple = ()  # ((option name, (values...)), ...)
    images: tuple = ()  # public URLs the channel fetches the images from


class Shipped(NamedTuple):
    """What the channel did with a shipment: ``refused`` (why, with the
    HTTP-like ``status``), else the ids of the ``fulfilments`` it created
    (None: the channel completed the order instead)."""

    fulfilments: tuple | None = None
    refused: str = ""
    status: int = 200


class StorefrontAdapter:
    # Inbound: every provider.
    key = None  # set by register_adapter
    webhook_topics = {}  # topic → IMPORT, RESTORE, DELETE or REFUND
    # What a topic says about the order even when its payload is older news.
    topic_hints = {}
    # The refunds an order lists are read from the API and applied
    # (``listed_refunds``, ``refunds``): its refunded status alone asks
    # nothing of a person.
    reads_refunds = False

    # The channel's API: only where ``has_api``.
    has_api = False
    credentials = {}  # backend secret field → what the channel calls it
    has_api_version = False
    has_locations = False  # stock is published to one of the shop's locations
    listing_prefix = ""  # of its listing keys (see ``listing.py``)
    registered_topics = ()  # what Register Webhooks points at the endpoint
    sends_endpoint_secret = False  # registering gives the channel the secret
    has_payouts = False  # the channel's own payments pay out (``payouts``)
    has_price_lists = False  # prices per market or currency (``push_price_list``)

    def __init__(self, settings):
        self.client = self.make_client(settings)

    # Inbound -----------------------------------------------------------------

    @classmethod
    def map_order(cls, payload):
        """The canonical order of one of the provider's order payloads;
        ``MappingError`` if it cannot be one."""
        raise NotImplementedError

    @classmethod
    def webhook_order(cls, payload):
        """The canonical order of an order webhook's payload."""
        return cls.map_order(payload)

    @classmethod
    def map_refund(cls, payload):
        """The canonical ``Refund`` of a ``REFUND`` topic's payload."""
        raise NotImplementedError

    @classmethod
    def listed_refunds(cls, payload):
        """The ids of the refunds an order payload lists whose lines are read
        from the API (``refunds``); () for channels whose refunds come as
        webhooks of their own."""
        return ()

    # Listing keys ------------------------------------------------------------

    @classmethod
    def listing_key(cls, product_id, variant_id=None, inventory_item_id=None):
        raise NotImplementedError

    @classmethod
    def parse_listing_key(cls, key):
        """The ``Listing`` of a key with the provider's prefix, or None."""
        raise NotImplementedError

    @classmethod
    def product_fields(cls, listing):
        """The fields of the channel item a product push sets."""
        return ("name", "active")

    # The API -----------------------------------------------------------------

    @classmethod
    def make_client(cls, settings):
        raise NotImplementedError

    def connection_label(self):
        """What the connection test reached, e.g. ``Shopify shop Acme``."""
        raise NotImplementedError

    def primary_location(self):
        """The id of the location stock is published to (``has_locations``)."""
        raise NotImplementedError

    def orders_since(self, since):
        """The payloads of every order changed after ``since`` (naive UTC),
        oldest first."""
        raise NotImplementedError

    def order(self, external_id):
        """The payload of one order as ``orders_since`` gives it; None if the
        channel has no such order (any more)."""
        raise NotImplementedError

    def channel_items(self, location, skus=None):
        """The channel items (dicts: sku, key, stock, price, name, active) of
        ``skus``, or of the whole catalogue if None."""
        raise NotImplementedError

    def push(self, location, kind, items):
        """Send ``items`` ([(Listing, value)]) of ``kind`` (stock, price, or
        product: (name, active)) in as few calls as the API allows;
        ``{index: message}`` of the items refused."""
        raise NotImplementedError

    def refunds(self, order_id):
        """The canonical ``Refund`` of each refund of the channel's order
        ``order_id`` (for ``listed_refunds``)."""
        raise NotImplementedError

    def payouts(self, since):
        """The channel's payments' payouts (``lib.payout.Payout``) paid to the
        bank since ``since`` (a date; None: all) (``has_payouts``)."""
        return self.client.payouts(since)

    def payout_lines(self, payout_id):
        """The ``lib.payout.BalanceLine`` of each transaction a payout settles."""
        return self.client.payout_lines(payout_id)

    def push_price_list(self, price_list, currency, items):
        """Set ``items`` ([(Listing, price)]) as the fixed prices in
        ``currency`` of the channel price list ``price_list``
        (``has_price_lists``); ``{index: message}`` of the items refused."""
        raise NotImplementedError

    def ship(self, shipments):
        """Tell the channel of ``shipments``; yields ``(index, Shipped)`` as it
        learns them, so that what was done before an error is kept."""
        raise NotImplementedError

    def create_product(self, product):
        """Create ``product`` (a :class:`NewProduct`) on the channel; the
        channel items of its variants (dicts with ``sku`` and ``key``)."""
        raise NotImplementedError

    def mark_delivered(self, order_id, tracking_numbers):
        """Tell the channel that the goods of its order ``order_id`` shipped
        under ``tracking_numbers`` arrived; what it did, in plain words, or
        None if the channel has no way to hear it."""
        return None

    def register_webhooks(self, url, secret, name):
        """Point ``registered_topics`` at ``url`` (``secret``: the endpoint's,
        for providers that take it; ``name``: what to call them). Returns
        ``({topic: registered, present or activated}, [{id, url}] of the
        channel's webhooks, {ids of duplicates to delete}``)."""
        raise NotImplementedError

    def delete_webhook(self, hook_id):
        """Delete a webhook; one already gone counts as deleted."""
        raise NotImplementedError
