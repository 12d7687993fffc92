"""What a channel's API answer means, for every connector.

``Throttled`` and ``Unavailable`` pass by themselves (the caller retries
later: :func:`passes_by_itself`); ``ApiError`` does not (credentials,
permissions, a bad query, data the channel refuses).
"""

import math


class ApiError(Exception):
    """The channel refused the request for a reason that will not pass by itself."""

    status = 400

    def __init__(self, message, status=None):
        super().__init__(message)
        if status is not None:
            self.status = status


class Throttled(ApiError):
    """Too many requests: come back after ``retry_after`` whole seconds."""

    status = 429

    def __init__(self, message, retry_after):
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


class Unavailable(ApiError):
    """A 5xx, a broken connection or an unreadable answer: worth retrying."""

    status = 503


def passes_by_itself(err):
    """Whether ``err`` is worth retrying unchanged (throttling, an outage)."""
    return isinstance(err, Throttled | Unavailable)
