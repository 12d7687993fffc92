"""The integration inventory: one row per thing that connects the database to
another system, gathered from registered sources.

A source names its Odoo model and a SELECT giving ``COLUMNS`` in order, one
row per record. The inventory model reads the UNION ALL of the sources of the
models installed (its ``_table_query``, built once per registry): a module
that adds a kind of integration (API clients) registers its source from its
own code, without depending on this module::

    try:
        from odoo.addons.retail_integration_governance.lib import inventory
    except ImportError:
        inventory = None

    if inventory:

        @inventory.register_source("api_client")
        class ApiClients(inventory.Source):
            ...

Each source has a fixed ``number`` (1-15): a row's id is ``res_id * 16 +
number``, the same for the same record whatever else is installed. The SQL
must hold no ``%`` (it is run without parameters).
"""

from odoo.tools import sql

from odoo.addons.retail_integration.lib.registry import Registry

# What each source's SELECT returns, in this order.
COLUMNS = (
    "res_id",
    "name",
    "company_id",
    "backend_id",
    "owner_id",
    "purpose",
    "data_classification",
    "scopes",
    "last_used_at",
    "review_date",
    "sla",
    "live",
    "create_date",
)

UNUSED_DAYS_PARAM = "retail_integration_governance.unused_days"
DEFAULT_UNUSED_DAYS = 90

SOURCES = Registry("inventory source")


class Source:
    """One kind of integration in the inventory."""

    key = None
    label = ""
    number = 0
    model = ""

    def available(self, env):
        """Whether this source's model is installed."""
        return self.model in env.registry

    def select(self, env):
        """SQL returning ``COLUMNS``, one row per record (archived ones too)."""
        raise NotImplementedError


def register_source(key):
    """Class decorator: register an instance of the ``Source`` subclass."""

    def decorator(cls):
        cls.key = key
        SOURCES.add(key, cls())
        return cls

    return decorator


def backend_sla(env, alias):
    """The SLA of backend ``alias``.id when the monitoring module watches it:
    the tightest maximum lag of its flows (SQL; NULL without that module)."""
    if not sql.table_exists(env.cr, "retail_monitor_flow"):
        return "NULL::varchar"
    return (
        "(SELECT 'lag ≤ ' || min(f.max_lag_seconds) || ' s' "
        f"FROM retail_monitor_flow f WHERE f.backend_id = {alias}.id AND f.active)"
    )


def available_sources(env):
    return [source for source in SOURCES.values() if source.available(env)]


def table_query(env):
    """The inventory's rows: every available source, with the flags."""
    parts = []
    for source in available_sources(env):
        columns = ", ".join(f"s.{name}" for name in COLUMNS)
        parts.append(
            f"SELECT s.res_id * 16 + {int(source.number)} AS id, "
            f"'{source.key}'::varchar AS kind, '{source.model}'::varchar AS res_model, "
            f"{columns} FROM ({source.select(env)}) s"
        )
    union = "\nUNION ALL\n".join(parts)
    days = (
        "(SELECT CASE WHEN value ~ '^[0-9]{1,5}$' THEN value::int END "
        f"FROM ir_config_parameter WHERE key = '{UNUSED_DAYS_PARAM}')"
    )
    return f"""
        SELECT u.*,
               COALESCE(u.last_used_at, u.create_date)
                 < (now() AT TIME ZONE 'UTC')
                   - make_interval(days => COALESCE({days}, {DEFAULT_UNUSED_DAYS}))
                 AS unused,
               COALESCE(u.review_date < current_date, false) AS review_overdue
          FROM ({union}) u
    """
