"""Variation by key, registered where it is defined.

A connector module makes one :class:`Registry` per kind of plug-in (the
storefront's providers, later the POS systems and the carriers). Each plug-in
registers itself under its key with :meth:`Registry.register`; the code that
uses it looks it up by that key (``backend.provider``) and never names one.
A later registration under the same key replaces the earlier one, so a module
may extend a provider by registering its subclass.
"""


class Registry:
    def __init__(self, kind):
        self.kind = kind
        self._entries = {}

    def register(self, key):
        """Class decorator: register the class under ``key`` (its ``key``
        attribute is set to it)."""

        def decorator(entry):
            entry.key = key
            self._entries[key] = entry
            return entry

        return decorator

    def add(self, key, entry):
        """Register ``entry`` (any object) under ``key``; return it."""
        self._entries[key] = entry
        return entry

    def unregister(self, key):
        self._entries.pop(key, None)

    def __getitem__(self, key):
        """The entry of ``key``; ``KeyError`` naming the kind if none."""
        try:
            return self._entries[key]
        except KeyError:
            raise KeyError(f"No {self.kind} is registered as {key!r}.") from None

    def get(self, key):
        """The entry of ``key``, or None."""
        return self._entries.get(key)

    def keys(self, where=None):
        """The keys, in registration order, of the entries ``where(entry)``
        holds for (all if ``where`` is None)."""
        return [
            key for key, entry in self._entries.items() if where is None or where(entry)
        ]

    def values(self):
        return list(self._entries.values())

    def __contains__(self, key):
        return key in self._entries
