"""18.0.1.3.0: event types are part of the code (routing, coalescing,
versions), and two indexes of earlier versions go."""


def migrate(cr, version):
    # Loaded with noupdate until now: the update must write their new fields.
    cr.execute(
        """UPDATE ir_model_data SET noupdate = FALSE
            WHERE module = 'retail_integration_outbox'
              AND model = 'retail.outbox.event.type'"""
    )
    # Replaced by retail_outbox_delivery_claim before the first release.
    cr.execute("DROP INDEX IF EXISTS retail_outbox_delivery_due")
    # uuid_uniq's index serves lookups by id: a second one on the column only
    # cost every insert.
    cr.execute("DROP INDEX IF EXISTS retail_outbox_event__uuid_index")
