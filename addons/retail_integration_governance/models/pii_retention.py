"""How long personal data stays in a payload that is not processed yet, per
data classification (system parameters, days)."""

import logging
from datetime import timedelta

from odoo import fields

_logger = logging.getLogger(__name__)

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


def mask_batch(model, batch, select, mask_row, update, cron_xmlid):
    """One batch of a masking cron on ``model``'s table: ``select`` (SQL
    taking the cutoffs and ``%(batch)s``) locks and returns the rows to mask;
    ``mask_row(row)`` gives ``(id, (new column values...), values masked)``;
    ``update`` (SQL) writes them from ``unnest()`` of its parameters: the
    time, the ids, an array per column, the counts. While batches are full,
    the cron runs again at once. Returns (rows checked, values masked)."""
    env = model.env
    env.flush_all()
    params = dict(cutoffs(env), batch=batch)
    env.cr.execute(select, params)
    masked = [mask_row(row) for row in env.cr.fetchall()]
    if masked:
        ids, values, counts = zip(*masked, strict=True)
        columns = [list(column) for column in zip(*values, strict=True)]
        env.cr.execute(
            update, [fields.Datetime.now(), list(ids), *columns, list(counts)]
        )
        model.invalidate_model()
    if len(masked) == batch:
        env.ref(cron_xmlid)._trigger()
    total = sum(count for _id, _values, count in masked)
    _logger.info(
        "PII masking: %s %s checked, %s values masked", len(masked), model._name, total
    )
    return len(masked), total
