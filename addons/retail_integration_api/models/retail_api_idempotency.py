import json

from odoo import api, fields, models

KEEP_HOURS = 24


class RetailApiIdempotency(models.Model):
    """The first answer to a request with an ``Idempotency-Key``, kept a day
    to answer its repeats."""

    _name = "retail.api.idempotency"
    _description = "Retail API Idempotency Key"
    _log_access = False

    create_date = fields.Datetime(readonly=True, index=True)
    client_id = fields.Many2one(
        "retail.api.client", required=True, ondelete="cascade", readonly=True
    )
    key = fields.Char(required=True, readonly=True)
    route = fields.Char(readonly=True)
    body_hash = fields.Char(required=True, readonly=True)
    status = fields.Integer(readonly=True)
    response = fields.Text(readonly=True)

    _sql_constraints = [
        ("key_uniq", "unique(client_id, key)", "An Idempotency-Key is used once.")
    ]

    @api.model
    def _claim(self, client, key, route, body_hash):
        """Take ``key`` for this request: None if it is ours now, else the
        stored row. A twin request in flight holds the key until it commits:
        this waits for it, and in the request's REPEATABLE READ transaction
        its committed row raises a serialization failure, which Odoo answers
        by running the request again, which then finds the row."""
        self.env.cr.execute(
            """
            INSERT INTO retail_api_idempotency
                (create_date, client_id, key, route, body_hash)
            VALUES (now() at time zone 'UTC', %s, %s, %s, %s)
            ON CONFLICT (client_id, key) DO NOTHING
            RETURNING id
            """,
            (client.id, key, route, body_hash),
        )
        if self.env.cr.fetchone():
            return None
        return self.search([("client_id", "=", client.id), ("key", "=", key)])

    @api.model
    def _store(self, client, key, status, body):
        self.env.cr.execute(
            "UPDATE retail_api_idempotency SET status = %s, response = %s "
            "WHERE client_id = %s AND key = %s",
            (status, json.dumps(body), client.id, key),
        )

    @api.model
    def _purge(self):
        self.env.cr.execute(
            "DELETE FROM retail_api_idempotency WHERE create_date < "
            "(now() at time zone 'UTC') - make_interval(hours => %s)",
            (KEEP_HOURS,),
        )
