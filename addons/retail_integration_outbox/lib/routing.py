"""Which subscriptions an event goes to, declared per event type.

Every event goes to the active subscriptions that want its type, of the
company of the record it reports (any company's when the record has none).
An event type's *routing* (a key of ``ROUTINGS``) narrows that for values per
scope: a price per pricelist goes only to the subscriptions whose backend
sells at that pricelist. A module adds a routing with ``register`` and names
its key on its event types.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Routing:
    key: str
    label: str
    # The scope of the events (``scope[0]``) and the backend field that
    # names the one record of it a subscription takes.
    scope_model: str | None = None
    backend_field: str | None = None
    # A backend without a value takes no scope (True) or every scope (False).
    required: bool = False

    def route_scope(self, value_id):
        """The scope a subscription takes when its backend's field holds
        ``value_id`` (0 or None: empty): ``(model, id)``, or None for any."""
        if not self.backend_field:
            return None
        if value_id:
            return (self.scope_model, value_id)
        # id 0 is no record's: such a route matches no event.
        return (self.scope_model, 0) if self.required else None


ROUTINGS = {}


def register(routing):
    ROUTINGS[routing.key] = routing
    return routing


def unregister(key):
    ROUTINGS.pop(key, None)


def selection():
    return [(routing.key, routing.label) for routing in ROUTINGS.values()]


def backend_fields():
    """The backend fields a route depends on (the routes are recomputed when
    one changes)."""
    return {r.backend_field for r in ROUTINGS.values() if r.backend_field}


def matches(route_scope, scope):
    """Whether a route that takes ``route_scope`` gets an event of ``scope``."""
    return route_scope is None or route_scope == scope


COMPANY = register(Routing("company", "Every subscription of the company"))
PRICELIST = register(
    Routing(
        "pricelist",
        "The backend's pricelist (none without one)",
        "product.pricelist",
        "pricelist_id",
        required=True,
    )
)
WAREHOUSE = register(
    Routing(
        "warehouse",
        "The backend's warehouse (every one without one)",
        "stock.warehouse",
        "warehouse_id",
    )
)
