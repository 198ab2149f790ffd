"""Persistent connections whose every database call is bounded.

A kept connection (CONN_MAX_AGE > 0) saves a connection per request (about 10x the throughput),
but a call on it to a frozen server or through a black-holed link would wait forever: TCP still
holds, and libpq has no client-side timeout. So psycopg2 runs in its asynchronous mode here, with
a wait callback that bounds each call:

- a connection being made: the connect timeout (libpq does not enforce it in this mode);
- the request-start ping of a kept connection (ConnectionCheckMiddleware): the ping timeout;
  a ping that fails at once (a restarted server) drops the connection, and the request connects
  anew; one that gets no answer makes the request a 503;
- any other call: as long as the server is alive. Every liveness interval, the postmaster is asked
  an SSLRequest on a fresh socket (it answers that itself, in microseconds); a frozen server or a
  black-holed link does not answer, and the call fails. A server that answers but is slow (a
  statement behind a lock) keeps the call waiting: the server's statement_timeout bounds that.

What each mechanism covers, measured: reference-store/README.md.
"""
import select
import socket
import struct
import threading
import time

import psycopg2
from django.conf import settings
from django.db import connections
from django.db.utils import OperationalError as DjangoOperationalError
from psycopg2 import extensions

from storeproject import flaws

_local = threading.local()
# the SSLRequest code (PostgreSQL protocol): the postmaster answers 'S' or 'N' before any authentication
_SSL_REQUEST = struct.pack("!ii", 8, 80877103)


class DatabaseNotAnswering(psycopg2.OperationalError):
    """The database did not answer within its bound: frozen, or the link to it drops everything."""


def _server_answers(conn, timeout_s):
    """True when the postmaster behind conn's host and port answers an SSLRequest within timeout_s."""
    params = conn.get_dsn_parameters()
    host, port = params.get("host") or "localhost", int(params.get("port") or 5432)
    try:
        if host.startswith("/"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout_s)
            sock.connect("%s/.s.PGSQL.%d" % (host, port))
        else:
            sock = socket.create_connection((host, port), timeout=timeout_s)
        with sock:
            sock.settimeout(timeout_s)
            sock.sendall(_SSL_REQUEST)
            return len(sock.recv(1)) == 1
    except OSError:
        return False


def wait_bounded(conn):
    """psycopg2's wait callback: poll the connection until its call is done, within its bound."""
    start = time.monotonic()
    if conn.status == extensions.STATUS_SETUP:
        hard, what = settings.STORE_DB_CONNECT_TIMEOUT_S, "connect"
    elif getattr(_local, "pinging", False):
        hard, what = settings.STORE_DB_PING_TIMEOUT_S, "ping"
    else:
        hard, what = None, "call"
    liveness = settings.STORE_DB_LIVENESS_S
    next_probe = start + liveness
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            return
        now = time.monotonic()
        if hard is not None:
            if now - start >= hard:
                raise DatabaseNotAnswering("the database did not answer the %s within %.1f s" % (what, hard))
            timeout = start + hard - now
        else:
            if now >= next_probe:
                if not _server_answers(conn, liveness):
                    raise DatabaseNotAnswering("the database stopped answering (no answer to a liveness probe)")
                next_probe = time.monotonic() + liveness
            timeout = max(0.0, next_probe - time.monotonic())
        if state == extensions.POLL_READ:
            select.select([conn.fileno()], [], [], timeout)
        elif state == extensions.POLL_WRITE:
            select.select([], [conn.fileno()], [], timeout)
        else:
            raise psycopg2.OperationalError("unexpected poll state %r" % state)


class ConnectionCheckMiddleware:
    """Pings each connection kept from an earlier request before the request uses it.

    Django 4.1+'s CONN_HEALTH_CHECKS does the same check but cannot bound it; on 3.2 there is none.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for conn in connections.all():
            if conn.connection is None or conn.in_atomic_block:
                continue
            _local.pinging = True
            try:
                with conn.connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            except DatabaseNotAnswering as exc:
                conn.close()
                from .errors import database_unavailable_response

                return database_unavailable_response(DjangoOperationalError(str(exc)))
            except psycopg2.Error:
                conn.close()  # gone (a restart, a failover): the request connects anew
            finally:
                _local.pinging = False
        return self.get_response(request)


def install():
    """Bounded calls, unless the store runs with the no_db_timeout flaw (then they may hang)."""
    if not flaws.on("no_db_timeout"):
        extensions.set_wait_callback(wait_bounded)
