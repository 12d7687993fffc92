"""Rate-limited logging of rejected requests: a flood must not flood the log."""

import time


class RateLimitedLog:
    """Let one line per key through every ``interval`` seconds, counting the rest."""

    def __init__(self, interval=60.0, clock=time.monotonic):
        self.interval = interval
        self.clock = clock
        self._last = {}
        self._suppressed = {}

    def should_log(self, key):
        """Return None to stay silent, else how many lines were held back."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._suppressed.pop(key, 0)
