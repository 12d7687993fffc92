"""What a shipment is, whatever the carrier: plain data the Odoo layer fills
from a picking and a provider adapter turns into its API's calls.

Units are metric here (kg, cm); an adapter converts to its API's units.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

from odoo.addons.retail_integration.lib.api_errors import (  # noqa: F401 (re-exported)
    ApiError,
    Throttled,
    Unavailable,
    passes_by_itself,
)
from odoo.addons.retail_integration.lib.registry import Registry

PDF, ZPL = "PDF", "ZPL"
LABEL_FORMATS = (PDF, ZPL)
KG_TO_OZ = 35.27396195
CM_TO_IN = 1 / 2.54
MAX_LABEL_BYTES = 5 * 1024 * 1024  # a label file larger than this is refused


def carrier_amount(value):
    """A money amount a carrier sent, as a float; None if it is not one (not
    a number, NaN, infinite, below zero)."""
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return None
    if isinstance(value, bool) or not math.isfinite(amount) or amount < 0:
        return None
    return amount


def utc_moment(text):
    """A carrier's ISO 8601 time as naive UTC (Odoo's); None if unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


class AddressInvalid(ApiError):
    """The carrier cannot deliver to the address: ``message`` says why, in
    the carrier's words."""

    status = 422


@dataclass
class Address:
    name: str = ""
    company: str = ""
    street1: str = ""
    street2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""  # ISO 3166-1 alpha-2
    phone: str = ""
    email: str = ""


@dataclass
class Parcel:
    weight_kg: float
    length_cm: float = 0.0
    width_cm: float = 0.0
    height_cm: float = 0.0


@dataclass
class CustomsItem:
    description: str
    quantity: int
    value: float  # the line's total value, in ``currency``
    weight_kg: float
    hs_code: str
    origin_country: str
    currency: str


@dataclass
class ShipmentRequest:
    reference: str  # the idempotency key: one per picking and package
    sender: Address
    recipient: Address
    parcel: Parcel
    carrier: str = ""  # the carrier at the provider (EasyPost: "USPS"); "" any
    service: str = ""  # its service level ("Priority"); "" the cheapest
    label_format: str = PDF
    customs: list = field(default_factory=list)  # [CustomsItem], international
    customs_signer: str = ""
    insurance: float = 0.0  # declared value to insure; 0: none
    currency: str = ""  # of the insurance and customs values (ISO 4217)
    is_return: bool = False

    @property
    def international(self):
        return bool(self.customs)


@dataclass
class Rate:
    carrier: str
    service: str
    amount: float
    currency: str
    days: int | None = None
    rate_id: str = ""


@dataclass
class Label:
    format: str
    content: bytes


@dataclass
class Purchase:
    provider_ref: str  # the provider's shipment id
    tracking_number: str
    tracking_url: str = ""
    tracker_ref: str = ""
    amount: float = 0.0
    currency: str = ""
    labels: list = field(default_factory=list)  # [Label]


@dataclass
class TrackingEvent:
    status: str  # one of tracking.STATUSES
    occurred_at: datetime  # naive UTC
    message: str = ""
    location: str = ""


@dataclass
class TrackingUpdate:
    tracker_ref: str
    tracking_number: str
    status: str
    events: list = field(default_factory=list)  # [TrackingEvent]
    public_url: str = ""
    provider_ref: str = ""


def pick_rate(rates, carrier="", service=""):
    """The rate of ``carrier``/``service`` (case-insensitive; empty: any),
    the cheapest if several; None if none fits."""
    fitting = [
        rate
        for rate in rates
        if (not carrier or rate.carrier.lower() == carrier.lower())
        and (not service or rate.service.lower() == service.lower())
    ]
    return min(fitting, key=lambda rate: rate.amount) if fitting else None


class CarrierAdapter:
    """A provider's API, for the Odoo layer. Errors: ``AddressInvalid``,
    ``Throttled``/``Unavailable`` (retry later), ``ApiError`` (anything else
    the provider refuses).

    ``purchase`` must never buy twice for one ``request.reference``: given the
    ``known_ref`` an earlier attempt left, it looks that shipment up first."""

    key = None

    def __init__(self, base_url, api_key, timeout=30, session=None):
        self.base_url = (base_url or "").rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.session = session

    def rates(self, request):
        raise NotImplementedError

    def verify_address(self, address):
        """Raise ``AddressInvalid`` if the carrier cannot deliver there."""
        raise NotImplementedError

    def create_shipment(self, request):
        """Create the shipment at the provider, unbought if the API has
        that step: its reference (stored before buying)."""
        raise NotImplementedError

    def buy(self, provider_ref, request):
        """Buy the label of a created shipment: a ``Purchase``."""
        raise NotImplementedError

    def lookup(self, provider_ref):
        """The ``Purchase`` of a shipment already bought, or None."""
        raise NotImplementedError

    def void(self, provider_ref):
        """Void or refund the label; the provider's refund status."""
        raise NotImplementedError

    def track(self, tracker_ref, tracking_number=""):
        """The shipment's tracking now: a ``TrackingUpdate``."""
        raise NotImplementedError

    @classmethod
    def tracking_update(cls, payload):
        """The ``TrackingUpdate`` a webhook's payload carries, or None."""
        raise NotImplementedError


PROVIDERS = Registry("carrier provider")
