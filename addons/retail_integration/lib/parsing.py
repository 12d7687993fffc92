"""Reading a channel's JSON into canonical values, one field at a time.

Each reader takes the value and ``where`` (the field's path, for the message)
and raises :class:`MappingError` naming the field when the value cannot be
right, with limits that stop hostile or broken payloads before they reach the
database.
"""

import math
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

MAX_LINES = 500
MAX_QUANTITY = Decimal(100_000)
MAX_AMOUNT = Decimal(1_000_000_000)
MAX_TEXT = 512


class MappingError(ValueError):
    """The payload cannot be what it claims; the message says why, in plain words."""


def parse_text(value, where, required=False, limit=MAX_TEXT):
    if value is None or value == "":
        if required:
            raise MappingError(f"{where} is missing.")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MappingError(f"{where} must be a text, not {type(value).__name__}.")
    value = str(value).strip()
    if len(value) > limit:
        raise MappingError(f"{where} is longer than {limit} characters.")
    if required and not value:
        raise MappingError(f"{where} is missing.")
    return value


def parse_amount(value, where, required=True, default=Decimal(0), minimum=Decimal(0)):
    """A money amount or quantity given as a JSON number or a decimal string."""
    if value is None or value == "":
        if required:
            raise MappingError(f"{where} is missing.")
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MappingError(f"{where} must be a number, not {type(value).__name__}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise MappingError(f"{where} must be a finite number.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as err:
        raise MappingError(f"{where} is not a number: {str(value)[:40]!r}.") from err
    if not number.is_finite():
        raise MappingError(f"{where} must be a finite number.")
    if minimum is not None and number < minimum:
        raise MappingError(f"{where} may not be negative ({number}).")
    if abs(number) > MAX_AMOUNT:
        raise MappingError(f"{where} is too large ({number}).")
    return number


def parse_bool(value, where):
    """True or false, nothing else (not a JSON null)."""
    if not isinstance(value, bool):
        raise MappingError(f"{where} must be true or false.")
    return value


def parse_object(value, where, required=False):
    if value is None:
        if required:
            raise MappingError(f"{where} is missing.")
        return {}
    if not isinstance(value, dict):
        raise MappingError(f"{where} must be an object, not {type(value).__name__}.")
    return value


def parse_list(value, where):
    """A list of objects (at most ``MAX_LINES``)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise MappingError(f"{where} must be a list, not {type(value).__name__}.")
    if len(value) > MAX_LINES:
        raise MappingError(f"{where} has more than {MAX_LINES} entries.")
    for index, item in enumerate(value):
        parse_object(item, f"{where}[{index}]", required=True)
    return value


def parse_timestamp(value, where):
    """An ISO 8601 date-time as naive UTC (a missing zone means UTC)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MappingError(f"{where} must be an ISO 8601 date-time.")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise MappingError(
            f"{where} is not an ISO 8601 date-time: {value[:40]!r}."
        ) from err
    if moment.tzinfo:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def parse_choice(value, where, allowed, default):
    if value in (None, ""):
        return default
    if value not in allowed:
        raise MappingError(
            f"{where} must be one of {', '.join(allowed)}, not {str(value)[:40]!r}."
        )
    return value


def parse_person_name(first, last, where):
    """``first last`` of a payload that splits a person's name."""
    return " ".join(
        part
        for part in (
            parse_text(first, f"{where}.first_name"),
            parse_text(last, f"{where}.last_name"),
        )
        if part
    )
