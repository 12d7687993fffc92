"""EasyPost (https://docs.easypost.com), through its official Python library.

One shipment per package: ``create`` POSTs /shipments (with the rates), the
Odoo layer stores its id, then ``buy`` POSTs /shipments/:id/buy with the
chosen rate. A buy whose answer is lost is looked up (GET /shipments/:id)
before anything is bought again: EasyPost has no idempotency key, the stored
shipment id is what makes the purchase happen once.
"""

import easypost
import requests
from easypost.errors import (
    ApiError as EasyPostApiError,
)
from easypost.errors import (
    EasyPostError,
    GatewayTimeoutError,
    HttpError,
    InternalServerError,
    JsonError,
    RateLimitError,
    ServiceUnavailableError,
    UnknownApiError,
)
from easypost.errors import (
    TimeoutError as EasyPostTimeout,
)

from . import tracking
from .shipping import (
    CM_TO_IN,
    KG_TO_OZ,
    MAX_LABEL_BYTES,
    PDF,
    PROVIDERS,
    ZPL,
    AddressInvalid,
    ApiError,
    CarrierAdapter,
    Label,
    Purchase,
    Rate,
    Throttled,
    TrackingEvent,
    TrackingUpdate,
    Unavailable,
    carrier_amount,
    pick_rate,
    utc_moment,
)

DEFAULT_URL = "https://api.easypost.com/v2"
TRANSIENT = (
    InternalServerError,
    ServiceUnavailableError,
    GatewayTimeoutError,
    EasyPostTimeout,
    HttpError,
    UnknownApiError,
    JsonError,  # an unreadable answer (a proxy's HTML error page)
)


def _address(address):
    return {
        "name": address.name,
        "company": address.company,
        "street1": address.street1,
        "street2": address.street2,
        "city": address.city,
        "state": address.state,
        "zip": address.zip,
        "country": address.country,
        "phone": address.phone,
        "email": address.email,
    }


def _parcel(parcel):
    data = {"weight": round(max(parcel.weight_kg, 0.001) * KG_TO_OZ, 1)}
    if parcel.length_cm and parcel.width_cm and parcel.height_cm:
        data.update(
            length=round(parcel.length_cm * CM_TO_IN, 1),
            width=round(parcel.width_cm * CM_TO_IN, 1),
            height=round(parcel.height_cm * CM_TO_IN, 1),
        )
    return data


def _customs(request):
    return {
        "contents_type": "merchandise",
        "customs_certify": True,
        "customs_signer": request.customs_signer or request.sender.name,
        "eel_pfc": "NOEEI 30.37(a)",
        "non_delivery_option": "return",
        "restriction_type": "none",
        "customs_items": [
            {
                "description": item.description[:255],
                "quantity": item.quantity,
                "value": round(item.value, 2),
                "weight": round(max(item.weight_kg, 0.001) * KG_TO_OZ, 1),
                "hs_tariff_number": item.hs_code,
                "origin_country": item.origin_country,
                "currency": item.currency,
            }
            for item in request.customs
        ],
    }


def _location(place):
    if not isinstance(place, dict):
        return ""
    parts = [place.get(k) for k in ("city", "state", "zip", "country")]
    return ", ".join(str(p) for p in parts if p)


def _events(details):
    events = []
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, dict):
            continue
        moment = utc_moment(detail.get("datetime"))
        if not moment:
            continue
        events.append(
            TrackingEvent(
                status=tracking.normalize(detail.get("status")),
                occurred_at=moment,
                message=str(detail.get("message") or "")[:500],
                location=_location(detail.get("tracking_location"))[:200],
            )
        )
    return events


def _address_errors(verification):
    errors = (verification or {}).get("errors") or []
    words = [
        str(e.get("message"))
        for e in errors
        if isinstance(e, dict) and e.get("message")
    ]
    return "; ".join(words)


@PROVIDERS.register("easypost")
class EasyPostAdapter(CarrierAdapter):
    default_url = DEFAULT_URL

    def __init__(self, base_url, api_key, timeout=30, session=None):
        super().__init__(base_url or DEFAULT_URL, api_key, timeout, session)
        self.client = easypost.EasyPostClient(
            api_key, api_base=self.base_url, timeout=timeout
        )
        # The label files are downloaded from the URLs EasyPost gives.
        self.http = session or requests.Session()
        self._created = {}  # shipments this adapter created: their rates

    # Errors ------------------------------------------------------------

    def _call(self, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except RateLimitError as err:
            retry_after = 60
            raise Throttled(
                err.message or "Rate limited by EasyPost.", retry_after
            ) from err
        except TRANSIENT as err:
            message = getattr(err, "message", None) or str(err)
            status = getattr(err, "http_status", None) or 500
            if isinstance(err, UnknownApiError) and status < 500:
                raise ApiError(
                    message or f"EasyPost answered {status}.", status
                ) from err
            raise Unavailable(message or "EasyPost is unavailable.") from err
        except EasyPostApiError as err:
            message = err.message or str(err)
            body = getattr(err, "json_body", None) or {}
            error = body.get("error") if isinstance(body, dict) else None
            code = (error or {}).get("code", "") if isinstance(error, dict) else ""
            details = []
            if isinstance(error, dict):
                details = [
                    f"{e.get('field')}: {e.get('message')}"
                    if e.get("field")
                    else str(e.get("message"))
                    for e in error.get("errors") or []
                    if isinstance(e, dict) and e.get("message")
                ]
            if code.startswith("ADDRESS.") or (
                err.http_status == 422 and "address" in message.lower()
            ):
                raise AddressInvalid("; ".join([message, *details])) from err
            raise ApiError("; ".join([message, *details]), err.http_status) from err
        except EasyPostError as err:
            raise ApiError(str(err)) from err

    # Requests ----------------------------------------------------------

    def _shipment_params(self, request):
        params = {
            "reference": request.reference,
            "to_address": _address(request.recipient),
            "from_address": _address(request.sender),
            "parcel": _parcel(request.parcel),
            "options": {"label_format": request.label_format or PDF},
        }
        if request.customs:
            params["customs_info"] = _customs(request)
        if request.is_return:
            params["is_return"] = True
        return params

    def _rates(self, shipment):
        rates = []
        for rate in getattr(shipment, "rates", None) or []:
            amount = carrier_amount(getattr(rate, "rate", None))
            if amount is None:
                raise ApiError(
                    f"EasyPost sent an unreadable rate: {str(rate.rate)[:20]!r}."
                )
            rates.append(
                Rate(
                    carrier=rate.carrier,
                    service=rate.service,
                    amount=amount,
                    currency=rate.currency,
                    days=getattr(rate, "delivery_days", None),
                    rate_id=rate.id,
                )
            )
        return rates

    def rates(self, request):
        shipment = self._call(
            self.client.shipment.create, **self._shipment_params(request)
        )
        messages = [
            str(m.get("message"))
            if isinstance(m, dict)
            else str(getattr(m, "message", m))
            for m in getattr(shipment, "messages", None) or []
        ]
        rates = self._rates(shipment)
        if not rates and messages:
            raise ApiError("; ".join(messages))
        return rates

    def verify_address(self, address):
        verified = self._call(
            self.client.address.create, verify=True, **_address(address)
        )
        verifications = verified.to_dict().get("verifications") or {}
        delivery = verifications.get("delivery") or {}
        if delivery and not delivery.get("success"):
            raise AddressInvalid(_address_errors(delivery) or "Address not found.")

    def create_shipment(self, request):
        shipment = self._call(
            self.client.shipment.create, **self._shipment_params(request)
        )
        self._created[shipment.id] = shipment
        return shipment.id

    def buy(self, provider_ref, request):
        shipment = self._created.get(provider_ref) or self._call(
            self.client.shipment.retrieve, provider_ref
        )
        if getattr(shipment, "postage_label", None):
            return self._purchase(shipment, request.label_format)
        rate = pick_rate(self._rates(shipment), request.carrier, request.service)
        if rate is None:
            raise ApiError(
                f"EasyPost offers no rate for {request.carrier or 'any carrier'} "
                f"{request.service or ''} on this shipment.".replace("  ", " ")
            )
        params = {"rate": {"id": rate.rate_id}}
        if request.insurance:
            params["insurance"] = f"{request.insurance:.2f}"
        bought = self._call(self.client.shipment.buy, provider_ref, **params)
        return self._purchase(bought, request.label_format)

    def lookup(self, provider_ref):
        shipment = self._call(self.client.shipment.retrieve, provider_ref)
        if not getattr(shipment, "postage_label", None):
            return None
        label = shipment.postage_label
        label_format = ZPL if getattr(label, "label_zpl_url", None) else PDF
        return self._purchase(shipment, label_format)

    def _purchase(self, shipment, label_format):
        label = shipment.postage_label
        if label_format == ZPL and not getattr(label, "label_zpl_url", None):
            label = self._call(
                self.client.shipment.label, shipment.id, file_format="ZPL"
            ).postage_label
        url = getattr(label, "label_zpl_url", None) if label_format == ZPL else None
        url = url or getattr(label, "label_pdf_url", None) or label.label_url
        fmt = ZPL if label_format == ZPL else PDF
        try:
            answer = self.http.get(url, timeout=self.timeout)
        except requests.RequestException as err:
            raise Unavailable(f"The label could not be downloaded: {err}") from err
        if answer.status_code != 200:
            raise Unavailable(
                f"The label could not be downloaded ({answer.status_code})."
            )
        if len(answer.content) > MAX_LABEL_BYTES:
            raise ApiError("The label file is larger than 5 MB.")
        tracker = getattr(shipment, "tracker", None)
        rate = getattr(shipment, "selected_rate", None)
        return Purchase(
            provider_ref=shipment.id,
            tracking_number=shipment.tracking_code,
            tracking_url=getattr(tracker, "public_url", "") or "",
            tracker_ref=getattr(tracker, "id", "") or "",
            # the label is bought: an amount that is not one is left unknown
            amount=carrier_amount(rate.rate if rate else 0) or 0.0,
            currency=rate.currency if rate else "",
            labels=[Label(fmt, answer.content)],
        )

    def void(self, provider_ref):
        shipment = self._call(self.client.shipment.refund, provider_ref)
        return getattr(shipment, "refund_status", "") or "submitted"

    def track(self, tracker_ref, tracking_number=""):
        tracker = self._call(self.client.tracker.retrieve, tracker_ref)
        return self.tracking_update({"result": tracker.to_dict()})

    @classmethod
    def tracking_update(cls, payload):
        tracker = payload.get("result") if isinstance(payload, dict) else None
        if not isinstance(tracker, dict) or tracker.get("object") not in (
            None,
            "Tracker",
        ):
            return None
        code = tracker.get("tracking_code")
        if not isinstance(code, str) or not code:
            return None
        events = _events(tracker.get("tracking_details"))
        status = tracking.normalize(tracker.get("status"))
        updated = utc_moment(tracker.get("updated_at"))
        if (
            status != tracking.UNKNOWN
            and updated
            and not any(e.status == status for e in events)
        ):
            events.append(TrackingEvent(status=status, occurred_at=updated))
        return TrackingUpdate(
            tracker_ref=str(tracker.get("id") or ""),
            tracking_number=code[:100],
            status=status,
            events=events,
            public_url=str(tracker.get("public_url") or "")[:500],
            provider_ref=str(tracker.get("shipment_id") or ""),
        )
