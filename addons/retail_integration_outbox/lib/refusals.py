"""Statements that lock rows another transaction may have changed since this
one began: under REPEATABLE READ, PostgreSQL refuses to lock such a row with
a serialization failure. Run in a savepoint, the refusal leaves the
transaction usable and its caller takes another way."""

from psycopg2.errors import SerializationFailure


def rows_unless_refused(cr, query, params):
    """``query``'s rows, run in a savepoint of ``cr``; None if PostgreSQL
    refused to lock a row that changed after this transaction began."""
    try:
        with cr.savepoint(flush=False):
            cr.execute(query, params, log_exceptions=False)
            return cr.fetchall()
    except SerializationFailure:
        return None
