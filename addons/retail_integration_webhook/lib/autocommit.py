"""One autocommit connection per process, kept open.

The webhook runtime table (token buckets, rejection counters) is written by
every request of every worker, each statement its own short transaction. A
cursor from Odoo's pool would cost a connection reset per request; this
connection is opened once per worker and reused. It is opened again if the
server dropped it, or for another database (one connection at most per
process, whatever the number of databases).
"""

import os
import threading

import psycopg2

from odoo import sql_db

# pid -> (database, psycopg2 connection): a forked worker opens its own and
# leaves its parent's alone.
_connections = {}
_lock = threading.Lock()  # threaded server: one statement at a time


def _connection(dbname):
    current = _connections.get(os.getpid())
    if current and current[0] == dbname and not current[1].closed:
        return current[1]
    if current:
        current[1].close()  # dead, or for another database
    _name, info = sql_db.connection_info_for(dbname)
    cnx = psycopg2.connect(**info)
    cnx.autocommit = True
    _connections[os.getpid()] = (dbname, cnx)
    return cnx


def execute(dbname, query, params=None):
    """Run one statement in its own transaction; return its rows, if any.

    On a connection the server closed (restart, terminated backend), the
    statement is sent once more on a new one: at worst a token is taken or a
    rejection counted twice.
    """
    with _lock:
        for attempt in (1, 2):
            cnx = _connection(dbname)
            try:
                with cnx.cursor() as cr:
                    cr.execute(query, params)
                    return cr.fetchall() if cr.description else None
            except (psycopg2.InterfaceError, psycopg2.OperationalError):
                if not cnx.closed or attempt == 2:
                    raise  # an error of the statement, not a dead connection
