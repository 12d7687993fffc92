"""Flows and business KPIs, registered by the modules that make them.

A *flow* is one direction of one backend and one kind of data ("Shopify EU ·
orders in"). A module does not list its flows: it registers a
:class:`FlowSource`, which finds them (``discover``) and measures them with
SQL aggregates over the records the module already writes
(``window_stats``, ``state_stats``). The monitoring module keeps one
``retail.monitor.flow`` record per flow found, with its owner and SLA, and
never names a source. A business KPI is a :class:`Kpi` registered the same
way. Registering costs nothing when the monitoring module is not installed:
the registries are read only by its models.

A connector registers from its own code (``models/monitoring.py``)::

    from odoo.addons.retail_integration_monitoring.lib import flows, sources

    @flows.register_source("pos.tickets_in")
    class PosTicketsIn(sources.InboundMessageSource):
        label = "tickets in"
        data_kind = "tickets"
        where = "b.channel_type = 'pos'"

Sources and KPIs get an Odoo environment but import nothing of Odoo: the SQL
they run is theirs.
"""

from dataclasses import dataclass
from datetime import datetime

from odoo.addons.retail_integration.lib.registry import Registry

SOURCES = Registry("monitoring flow source")
KPIS = Registry("monitoring KPI")

# Delivery modes a specific source measures by data kind (the storefront's
# per-kind flows): the generic per-subscription source leaves them out.
SPECIFIC_DELIVERY_MODES = set()


def register_source(key):
    """Class decorator: register a :class:`FlowSource` subclass under ``key``."""

    def decorate(cls):
        SOURCES.register(key)(cls)
        SPECIFIC_DELIVERY_MODES.update(getattr(cls, "claims_delivery_modes", ()))
        return cls

    return decorate


def register_kpi(key):
    """Class decorator: register a :class:`Kpi` subclass under ``key``."""
    return KPIS.register(key)


@dataclass(frozen=True)
class FlowRef:
    """One flow a source found: ``ref`` is unique within the source."""

    ref: str
    name: str
    backend_id: int | None
    company_id: int
    res_model: str | None = None
    res_id: int | None = None


@dataclass
class WindowStats:
    """What happened to the items that entered a flow in a time window."""

    volume: int = 0
    failed: int = 0
    lag_p50: float | None = None  # seconds
    lag_p95: float | None = None
    last_success: datetime | None = None

    @property
    def failure_rate(self):
        return self.failed / self.volume if self.volume else 0.0

    def __add__(self, other):
        """Two adjacent windows as one: counts add up; the lags are the worse
        of the two (a p95 of p95s cannot be had from the parts)."""

        def worst(a, b):
            return max(v for v in (a, b) if v is not None) if (a or b) else None

        return WindowStats(
            self.volume + other.volume,
            self.failed + other.failed,
            worst(self.lag_p50, other.lag_p50),
            worst(self.lag_p95, other.lag_p95),
            worst(self.last_success, other.last_success),
        )


@dataclass
class StateStats:
    """A flow's items waiting now, and its circuit."""

    queued: int = 0
    retrying: int = 0
    dead: int | None = 0  # None: not counted this time
    oldest_pending_at: datetime | None = None
    circuit: str = "closed"  # closed | open | stopped
    circuit_reason: str = ""

    @property
    def backlog(self):
        return self.queued + self.retrying


CIRCUIT_STATES = ("closed", "open", "stopped")


class FlowSource:
    """A kind of flow. Subclasses set the class attributes (the defaults of
    new flows; people change them on the flow afterwards) and implement the
    three methods. ``refs`` are :attr:`FlowRef.ref` strings."""

    key = None  # set by register_source
    label = ""  # "orders in": the flow's name is "<backend> · <label>"
    direction = "in"  # in | out
    data_kind = ""
    purpose = ""
    classification = "internal"  # public | internal | confidential | personal
    sync_mode = "realtime"  # realtime | batch
    batch_window_minutes = 0
    max_lag_seconds = 300
    max_failure_rate = 0.05
    window_hours = 1
    claims_delivery_modes = ()

    def discover(self, env):
        """The flows that exist now: a list of :class:`FlowRef`."""
        raise NotImplementedError

    def window_stats(self, env, refs, start, end):
        """{ref: WindowStats} of the items that entered in [start, end)."""
        raise NotImplementedError

    def state_stats(self, env, refs, now):
        """{ref: StateStats} now."""
        raise NotImplementedError

    def waiting_stats(self, env, refs, now):
        """{ref: StateStats} now, its ``dead`` None when not counted: the
        monitoring counts the dead items (which pile up until a person acts)
        every few minutes only, the waiting ones at every measure. By
        default, ``state_stats``."""
        return self.state_stats(env, refs, now)

    def records_action(self, env, ref, what):
        """A window action on the flow's records; ``what`` is ``all``,
        ``failed`` or ``pending``. None: nothing to open."""
        return None


@dataclass
class KpiValue:
    """A KPI's value for one backend (``backend_id`` None: the company)."""

    company_id: int
    backend_id: int | None
    value: float | None
    state: str = "ok"  # ok | warning | breached | unknown
    detail: str = ""
    samples: int = 0


class Kpi:
    """A named business KPI. ``compute`` returns a list of :class:`KpiValue`;
    ``definition`` says exactly what is measured (shown beside the value)."""

    key = None  # set by register_kpi
    name = ""
    unit = ""  # s | ratio | count | state
    definition = ""
    warning = None
    breach = None
    higher_is_worse = True

    def compute(self, env, now):
        raise NotImplementedError

    def state_of(self, value):
        """ok / warning / breached of a number against the thresholds."""
        if value is None:
            return "unknown"
        worse = (lambda a, b: a >= b) if self.higher_is_worse else (lambda a, b: a <= b)
        if self.breach is not None and worse(value, self.breach):
            return "breached"
        if self.warning is not None and worse(value, self.warning):
            return "warning"
        return "ok"


def flow_key(source_key, ref):
    return f"{source_key}:{ref}"


def module_of(cls):
    """The addon that defines ``cls`` (``odoo.addons.<name>....``), or None."""
    parts = cls.__module__.split(".")
    return parts[2] if parts[:2] == ["odoo", "addons"] and len(parts) > 2 else None


def installed(registry, loaded_modules):
    """{key: entry} of ``registry`` whose module is loaded in this database:
    a server serving several databases imports every module any of them
    installed, and registers their sources in all."""
    return {
        key: registry[key]
        for key in registry.keys()
        if module_of(registry[key]) in (None, *loaded_modules)
    }
