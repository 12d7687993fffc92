def migrate(cr, version):
    """The message's job link lost its index (nothing searches by it; every
    accepted request paid for it). Odoo keeps an index a field no longer
    asks for, so drop it here."""
    cr.execute("DROP INDEX IF EXISTS retail_inbound_message__job_uuid_index")
