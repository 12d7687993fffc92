"""The generic JSON carrier: a 3PL or a regional carrier that implements this
small contract (readme/CONFIGURE.md, *Generic JSON carrier*).

Every request carries ``Authorization: Bearer <API key>`` and JSON bodies;
amounts are decimal strings, weights kg, dimensions cm, times ISO 8601 UTC.

- ``POST /rates`` ``{"shipment": S}`` → 200 ``{"rates": [{"carrier",
  "service", "amount", "currency", "days"}]}``
- ``POST /addresses/verify`` ``{"address": A}`` → 200 ``{"valid": true}`` or
  ``{"valid": false, "messages": ["..."]}``
- ``POST /shipments`` ``{"shipment": S}`` with ``Idempotency-Key: <reference>``
  → 201 (200 when the key is known: the same shipment, nothing bought again)
  ``{"id", "tracking_number", "tracking_url", "amount", "currency",
  "labels": [{"format": "PDF"|"ZPL", "content": <base64>}]}``
- ``GET /shipments/<id>`` → 200 the same object (404 unknown)
- ``POST /shipments/<id>/cancel`` → 200 ``{"id", "status": "cancelled"}``
- ``GET /shipments/<id>/tracking`` → 200 ``{"tracking_number", "status",
  "events": [{"status", "occurred_at", "location", "message"}]}``
- Errors: ``{"error": {"code", "message"}}``; 422 with code
  ``address_invalid`` for an address it cannot deliver to; 429 with
  ``Retry-After``; 5xx: retried.

S is ``{"reference", "carrier", "service", "from": A, "to": A, "parcel":
{"weight_kg", "length_cm", "width_cm", "height_cm"}, "label_format",
"is_return", "insurance": {"amount", "currency"} | null, "customs": {"signer",
"items": [{"description", "quantity", "value", "currency", "weight_kg",
"hs_code", "origin_country"}]} | null}``; A is ``{"name", "company",
"street1", "street2", "city", "state", "zip", "country", "phone", "email"}``.
Tracking webhooks: Standard Webhooks (the suite's default scheme), type
``shipment.tracking``, data as ``GET /shipments/<id>/tracking`` plus ``id``.
"""

import base64
import binascii
import dataclasses

import requests

from odoo.addons.retail_integration.lib import api_http

from . import tracking
from .shipping import (
    MAX_LABEL_BYTES,
    PROVIDERS,
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
    utc_moment,
)


def _shipment(request):
    data = {
        "reference": request.reference,
        "carrier": request.carrier,
        "service": request.service,
        "from": dataclasses.asdict(request.sender),
        "to": dataclasses.asdict(request.recipient),
        "parcel": dataclasses.asdict(request.parcel),
        "label_format": request.label_format,
        "is_return": request.is_return,
        "insurance": None,
        "customs": None,
    }
    if request.insurance:
        data["insurance"] = {
            "amount": f"{request.insurance:.2f}",
            "currency": request.currency,
        }
    if request.customs:
        data["customs"] = {
            "signer": request.customs_signer,
            "items": [
                {**dataclasses.asdict(item), "value": f"{item.value:.2f}"}
                for item in request.customs
            ],
        }
    return data


def _text(value, limit=500):
    return str(value)[:limit] if value is not None else ""


def _list(data, key):
    """The list under ``key`` of a carrier's answer (none: empty)."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ApiError(f"The carrier sent an unreadable answer: {key} is not a list.")
    return value


@PROVIDERS.register("carrier_json")
class JsonCarrierAdapter(CarrierAdapter):
    def __init__(self, base_url, api_key, timeout=30, session=None):
        super().__init__(base_url, api_key, timeout, session)
        self.http = session or requests.Session()

    def _request(self, method, path, body=None, headers=None, allow_404=False):
        try:
            # api_http.send: the correlation ids in force go with the call
            answer = api_http.send(
                self.http,
                method,
                f"{self.base_url}{path}",
                timeout=self.timeout,
                json=body,
                headers={"Authorization": f"Bearer {self.api_key}", **(headers or {})},
            )
        except requests.RequestException as err:  # beyond what send() turns into
            # Unavailable: a broken answer (chunked encoding, redirects)
            raise Unavailable(f"The carrier cannot be reached: {err}") from err
        if answer.status_code == 404 and allow_404:
            return None
        if 300 <= answer.status_code < 400:
            raise ApiError(
                f"The carrier redirected the request ({answer.status_code}), "
                "which is not followed: check the backend's API URL.",
                answer.status_code,
            )
        try:
            data = answer.json()
        except ValueError:
            data = None
        error = data.get("error") if isinstance(data, dict) else None
        message = _text((error or {}).get("message") if isinstance(error, dict) else "")
        if answer.status_code == 429:
            raise Throttled(
                message or "Rate limited by the carrier.",
                api_http.retry_after(answer, default=60),
            )
        if answer.status_code >= 500:
            raise Unavailable(message or f"The carrier answered {answer.status_code}.")
        if answer.status_code >= 400:
            code = (error or {}).get("code") if isinstance(error, dict) else None
            if code == "address_invalid":
                raise AddressInvalid(message or "The address is not valid.")
            raise ApiError(
                message or f"The carrier refused the request ({answer.status_code}).",
                answer.status_code,
            )
        if not isinstance(data, dict):
            raise Unavailable("The carrier's answer is not a JSON object.")
        return data

    def rates(self, request):
        data = self._request("POST", "/rates", {"shipment": _shipment(request)})
        rates = []
        for rate in _list(data, "rates"):
            try:
                amount = carrier_amount(rate["amount"])
                if amount is None:
                    raise ValueError(f"amount {str(rate['amount'])[:20]!r}")
                rates.append(
                    Rate(
                        carrier=_text(rate["carrier"], 64),
                        service=_text(rate["service"], 64),
                        amount=amount,
                        currency=_text(rate.get("currency"), 3),
                        days=rate.get("days")
                        if isinstance(rate.get("days"), int)
                        else None,
                    )
                )
            except (KeyError, TypeError, ValueError) as err:
                raise ApiError(f"The carrier sent an unreadable rate: {err}") from err
        return rates

    def verify_address(self, address):
        data = self._request(
            "POST", "/addresses/verify", {"address": dataclasses.asdict(address)}
        )
        if not data.get("valid"):
            messages = data.get("messages") or []
            raise AddressInvalid(
                "; ".join(_text(m) for m in messages) or "The address is not valid."
            )

    def _purchase(self, data):
        labels = []
        for label in _list(data, "labels"):
            try:
                content = base64.b64decode(label["content"], validate=True)
            except (KeyError, TypeError, ValueError, binascii.Error) as err:
                raise ApiError("The carrier sent an unreadable label.") from err
            if len(content) > MAX_LABEL_BYTES:
                raise ApiError("The carrier sent a label larger than 5 MB.")
            fmt = "ZPL" if label.get("format") == "ZPL" else "PDF"
            labels.append(Label(fmt, content))
        if not data.get("id") or not data.get("tracking_number"):
            raise ApiError("The carrier's shipment has no id or tracking number.")
        # The label is bought: an amount that is not one is left unknown (0).
        amount = carrier_amount(data.get("amount") or 0) or 0.0
        return Purchase(
            provider_ref=_text(data["id"], 128),
            tracking_number=_text(data["tracking_number"], 100),
            tracking_url=_text(data.get("tracking_url")),
            tracker_ref=_text(data["id"], 128),
            amount=amount,
            currency=_text(data.get("currency"), 3),
            labels=labels,
        )

    def create_shipment(self, request):
        # Creating is buying here: the idempotency key makes a repeat return
        # the same shipment, so the reference stands for the shipment.
        return None

    def buy(self, provider_ref, request):
        data = self._request(
            "POST",
            "/shipments",
            {"shipment": _shipment(request)},
            headers={"Idempotency-Key": request.reference},
        )
        return self._purchase(data)

    def lookup(self, provider_ref):
        data = self._request("GET", f"/shipments/{provider_ref}", allow_404=True)
        return self._purchase(data) if data else None

    def void(self, provider_ref):
        data = self._request("POST", f"/shipments/{provider_ref}/cancel", {})
        return _text(data.get("status"), 32) or "cancelled"

    def track(self, tracker_ref, tracking_number=""):
        data = self._request("GET", f"/shipments/{tracker_ref}/tracking")
        return self.tracking_update({"data": {**data, "id": tracker_ref}})

    @classmethod
    def tracking_update(cls, payload):
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            return None
        number = data.get("tracking_number")
        if not isinstance(number, str) or not number:
            return None
        events = []
        raw_events = data.get("events")
        for event in raw_events if isinstance(raw_events, list) else []:
            if not isinstance(event, dict):
                continue
            moment = utc_moment(event.get("occurred_at"))
            if moment:
                events.append(
                    TrackingEvent(
                        status=tracking.normalize(event.get("status")),
                        occurred_at=moment,
                        message=_text(event.get("message")),
                        location=_text(event.get("location"), 200),
                    )
                )
        return TrackingUpdate(
            tracker_ref=_text(data.get("id"), 128),
            tracking_number=number[:100],
            status=tracking.normalize(data.get("status")),
            events=events,
            provider_ref=_text(data.get("id"), 128),
        )
