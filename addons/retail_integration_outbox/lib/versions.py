"""Which version of an event type's contract a subscription gets.

An event type builds one or more versions of its ``data`` (additive changes
stay in a version; a breaking change adds the next one beside it). A
subscription takes a version number: of each type it gets the newest version
not above it, so a number given to a breaking change of one type is never
used by another (see readme/USAGE.md, *Versions*). A version may be a
preview (not stable: only subscriptions that ask for it get it) and may be
deprecated (its deliveries say so in ``Deprecation`` and ``Sunset`` headers).
"""

import calendar
import datetime
import email.utils
from typing import NamedTuple


class Version(NamedTuple):
    stable: bool = True
    deprecated_on: datetime.date | None = None
    sunset_on: datetime.date | None = None


def default_version(versions):
    """The newest stable one of ``versions`` ({number: Version}), else the
    oldest: what an event type builds first."""
    stable = [n for n, version in versions.items() if version.stable]
    return max(stable) if stable else min(versions)


def pick(versions, wanted):
    """The version of ``versions`` a subscription that takes ``wanted`` gets:
    the newest not above it, else the oldest."""
    below = [n for n in versions if n <= wanted]
    return max(below) if below else min(versions)


def headers(version):
    """HTTP headers of a delivery in ``version``: ``Deprecation`` (RFC 9745,
    ``@`` and seconds since the epoch) from its deprecation date, ``Sunset``
    (RFC 8594, an HTTP date) from the date after which it is no longer sent."""
    result = {}
    if version.deprecated_on:
        seconds = calendar.timegm(version.deprecated_on.timetuple())
        result["Deprecation"] = f"@{seconds}"
    if version.sunset_on:
        moment = datetime.datetime.combine(
            version.sunset_on, datetime.time(), datetime.timezone.utc
        )
        result["Sunset"] = email.utils.format_datetime(moment, usegmt=True)
    return result
