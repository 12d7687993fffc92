from odoo import fields, models


class RetailBenchRow(models.Model):
    """What the insert baseline route writes: one row per request."""

    _name = "retail.bench.row"
    _description = "Benchmark Row"
    _log_access = False

    body = fields.Text()
