"""How long personal data stays in a payload that is not processed yet, per
data classification (system parameters, days)."""

from datetime import timedelta

from odoo import fields

PARAM = "retail_integration_governance.pii_retention_days.%s"
DEFAULT_DAYS = {"personal": 7, "confidential": 30, "internal": 30, "public": 90}
BATCH = 1000


def cutoffs(env):
    """{data class: moment before which an unprocessed payload is masked}."""
    params = env["ir.config_parameter"].sudo()
    now = fields.Datetime.now()
    result = {}
    for data_class, default in DEFAULT_DAYS.items():
        value = params.get_param(PARAM % data_class) or ""
        days = int(value) if value.isdigit() else default
        result[data_class] = now - timedelta(days=days)
    return result


def cutoff_sql(column):
    """SQL picking the cutoff of the data class in ``column`` (NULL: the
    strictest, personal)."""
    whens = " ".join(
        f"WHEN '{data_class}' THEN %({data_class})s" for data_class in DEFAULT_DAYS
    )
    return f"(CASE {column} {whens} ELSE %(personal)s END)"
