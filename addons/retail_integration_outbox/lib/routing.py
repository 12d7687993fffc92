"""Which subscriptions an event goes to, declared per event type.

Every event goes to the active subscriptions that want its type, of the
company of the record it reports (any company's when the record has none).
An event type's *routing* (a key of ``ROUTINGS``) narrows that for values per
scope: a price per pricelist goes only to the subscriptions whose backend
sells at that pricelist. A module adds a routing with ``register`` and names
its key on its event types.

A routing names the scope a backend takes by a field (one record: the
backend's pricelist) or by a method of the backend returning the ids of
several (``backend_method``: the pricelists of a POS backend's stores); the
subscription then takes each of them.
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
    # A backend method returning the ids of the scope records it takes
    # (several), used instead of ``backend_field`` when set; the field still
    # says when the routes are recomputed.
    backend_method: str | None = None

    def backend_values(self, backend):
        """The ids of the scope records ``backend`` takes, sorted; ``[0]``
        when it names none (or the routing has no scope)."""
        if self.backend_method:
            ids = getattr(backend, self.backend_method)() if backend else []
        elif self.backend_field:
            ids = backend[self.backend_field].ids
        else:
            ids = []
        return sorted(set(ids)) or [0]

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
        backend_method="_outbox_pricelist_ids",
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
