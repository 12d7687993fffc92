"""One autocommit connection per process, kept open.

The webhook runtime table (token buckets, rejection counters) is written by
every request of every worker, each statement its own short transaction. A
cursor from Odoo's pool would cost a connection reset per request; this
connection is opened once per worker and reused. It is opened again if the
server dropped it, or for another database (one connection at most per
process, whatever the number of databases).

It also keeps prepared statements (``prepared=``), which Odoo's pooled
connections cannot: the pool resets a connection (DISCARD ALL) each time it
lends it, so a statement run on every request is parsed and planned on every
request there.
"""

import os
import re
import threading

import psycopg2
import psycopg2.extensions

from odoo import sql_db
from odoo.tools import SQL

# pid -> (database, psycopg2 connection, {prepared statement: (its parameter
# names in order, its EXECUTE)}): a forked worker opens its own and leaves its
# parent's alone.
_connections = {}
_lock = threading.Lock()  # threaded server: one statement at a time
_NAMED = re.compile(r"%\((\w+)\)s")


def _connection(dbname):
    current = _connections.get(os.getpid())
    if current and current[0] == dbname and not current[1].closed:
        return current
    if current:
        current[1].close()  # dead, or for another database
    _name, info = sql_db.connection_info_for(dbname)
    cnx = psycopg2.connect(**info)
    cnx.autocommit = True
    with cnx.cursor() as cr:
        # A prepared statement is planned once, for any parameters: left to
        # choose, PostgreSQL plans the stock levels' query again on every
        # call (its estimate for a generic plan is worse, its run is not).
        cr.execute("SET plan_cache_mode = force_generic_plan")
    current = _connections[os.getpid()] = (dbname, cnx, {})
    return current


def serves(env):
    """Whether work of ``env``'s request may run on this connection, outside
    its transaction: not in tests, whose records only the test's own
    transaction sees."""
    return not env.registry.in_test_mode()


def execute(dbname, query, params=None, prepared=None, wait_for_disk=True):
    """Run one statement in its own transaction; return its rows, if any.

    With ``prepared`` (a name), ``query`` takes named parameters only
    (``%(name)s``) and is prepared under that name the first time this
    connection runs it, then executed by name.

    Without ``wait_for_disk``, the statement's commit does not wait for the
    disk (``synchronous_commit`` off for its transaction, sent in the same
    round trip): a crash of the server may lose its last fraction of a
    second of such writes. It returns no rows.

    On a connection the server closed (restart, terminated backend), the
    statement is sent once more on a new one: at worst a token is taken, a
    rejection counted or an API read's audit row written twice.
    """
    with _lock:
        for attempt in (1, 2):
            _db, cnx, statements = _connection(dbname)
            try:
                return _run(cnx, statements, query, params, prepared, wait_for_disk)
            except (psycopg2.InterfaceError, psycopg2.OperationalError):
                if not cnx.closed or attempt == 2:
                    raise  # an error of the statement, not a dead connection


def _run(cnx, statements, query, params, prepared, wait_for_disk):
    with cnx.cursor() as cr:
        if prepared:
            query, params = _prepared(cr, statements, prepared, query, params)
        if not wait_for_disk:
            query = _NO_WAIT_BEGIN + query + _NO_WAIT_END
        try:
            cr.execute(query, params)
        except psycopg2.Error:
            if not cnx.closed and cnx.info.transaction_status == _IN_ERROR:
                cr.execute("ROLLBACK")  # what failed between BEGIN and COMMIT
            raise
        return cr.fetchall() if cr.description else None


_NO_WAIT_BEGIN = "BEGIN; SET LOCAL synchronous_commit TO OFF; "
_NO_WAIT_END = "; COMMIT"
_IN_ERROR = psycopg2.extensions.TRANSACTION_STATUS_INERROR


def _prepared(cr, statements, name, query, params):
    """(its EXECUTE, its parameters), prepared on ``cr`` the first time."""
    if name not in statements:
        order = list(dict.fromkeys(_NAMED.findall(query)))
        numbered = _NAMED.sub(lambda m: f"${order.index(m[1]) + 1}", query)
        prepare = SQL("PREPARE %s AS %s", SQL.identifier(name), SQL(numbered))
        cr.execute(prepare.code, prepare.params)
        call = SQL(
            "EXECUTE %s (%s)",
            SQL.identifier(name),
            SQL(", ").join(SQL("%s", key) for key in order),
        )
        statements[name] = (order, call.code)
    order, code = statements[name]
    return code, [params[key] for key in order]
