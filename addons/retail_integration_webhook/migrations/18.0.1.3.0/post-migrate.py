def migrate(cr, version):
    """A previous secret is now accepted until a date: one saved before this
    version gets the default grace from the upgrade on, rather than being
    refused at once."""
    cr.execute(
        """UPDATE retail_webhook_endpoint
           SET previous_secret_until = (now() at time zone 'UTC') + interval '24 hours'
           WHERE secret_previous_sealed IS NOT NULL AND previous_secret_until IS NULL"""
    )
