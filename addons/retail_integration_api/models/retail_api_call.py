from odoo import api, fields, models, tools

from odoo.addons.retail_integration_webhook.lib import autocommit

DEFAULT_RETENTION_DAYS = 90

INSERT_SQL = """
    INSERT INTO retail_api_call (create_date, client_id, company_id, key_prefix,
        method, route, status, problem, latency_ms, correlation_id, remote_addr)
    VALUES (now() at time zone 'UTC', %(client_id)s, %(company_id)s,
        %(key_prefix)s, %(method)s, %(route)s, %(status)s, %(problem)s,
        %(latency_ms)s, %(correlation_id)s, %(remote_addr)s)
"""


class RetailApiCall(models.Model):
    """One API call, for audit: who, which route, what answer, how long. Never
    the body. Written at the end of the call (``_record``): a write's in its
    transaction, which the controller commits for refusals and failures too
    (a failure's own work rolled back first); a read's on its own."""

    _name = "retail.api.call"
    _description = "Retail API Call (audit)"
    _order = "id desc"
    _log_access = False

    create_date = fields.Datetime("Time", readonly=True, index=True)
    client_id = fields.Many2one("retail.api.client", readonly=True, index=True)
    company_id = fields.Many2one("res.company", readonly=True)
    key_prefix = fields.Char(readonly=True)
    method = fields.Char(readonly=True)
    route = fields.Char(readonly=True, help="The route's template, not the URL.")
    status = fields.Integer(readonly=True)
    problem = fields.Char(readonly=True, help="The problem type of a refusal.")
    latency_ms = fields.Float("Latency (ms)", readonly=True, digits=(16, 1))
    correlation_id = fields.Char("Correlation ID", readonly=True, index=True)
    remote_addr = fields.Char("Caller Address", readonly=True)

    @api.model
    def _record(self, values, read=False):
        """Insert the audit row: a write's in the call's transaction; a
        read's (``read``), all a read writes, on the worker's autocommit
        connection (prepared, one round trip), its commit not waiting for the
        disk (``synchronous_commit`` off): a crash of the database server may
        lose the last fraction of a second of read audit rows, never a
        write's. In tests, in the call's transaction, which the test sees.
        The client's and key's last use is touched at most once a minute, on
        the worker's autocommit connection: in the call's REPEATABLE READ
        transaction, concurrent calls updating that row would fail to
        serialise and run again (taking a second rate token)."""
        cr = self.env.cr
        if read and autocommit.serves(self.env):
            autocommit.execute(
                cr.dbname,
                INSERT_SQL,
                values,
                prepared="retail_api_call_insert",
                wait_for_disk=False,
            )
        else:
            cr.execute(INSERT_SQL, values)
        if values.get("touch") and values["status"] < 500:
            autocommit.execute(
                cr.dbname,
                """
                WITH c AS (
                    UPDATE retail_api_client SET last_used_at = now() at time zone 'UTC'
                    WHERE id = %(client_id)s AND (last_used_at IS NULL OR
                        last_used_at < now() at time zone 'UTC' - interval '1 minute')
                )
                UPDATE retail_api_key SET last_used_at = now() at time zone 'UTC'
                WHERE prefix = %(key_prefix)s AND (last_used_at IS NULL OR
                    last_used_at < now() at time zone 'UTC' - interval '1 minute')
                """,
                values,
            )

    @api.model
    def _cron_purge(self):
        """Delete audit rows older than the retention
        (``retail_api.audit_retention_days``, 90 by default)."""
        days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("retail_api.audit_retention_days", DEFAULT_RETENTION_DAYS)
        )
        self.env.cr.execute(
            "DELETE FROM retail_api_call WHERE create_date < "
            "(now() at time zone 'UTC') - make_interval(days => %s)",
            (days,),
        )
        self.env["retail.api.idempotency"]._purge()
        return self.env.cr.rowcount

    def init(self):
        tools.create_index(
            self.env.cr,
            "retail_api_call_client_date_idx",
            self._table,
            ["client_id", "create_date"],
        )
