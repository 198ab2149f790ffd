"""Request-start connection check for persistent connections.

Django 4.1+ has CONN_HEALTH_CHECKS; on 3.2 the same check is done here: a connection
kept from an earlier request (CONN_MAX_AGE > 0) is pinged before use and dropped when
the server went away (a restart, a failover), instead of failing the request.
"""
import django
from django.core.signals import request_started
from django.db import connections

from storeproject import flaws


def drop_unusable_connections(**_kwargs):
    for conn in connections.all():
        if conn.connection is not None and conn.settings_dict.get("CONN_MAX_AGE"):
            if not conn.is_usable():
                conn.close()


if django.VERSION < (4, 1) and not flaws.on("stale_db_connections"):
    request_started.connect(drop_unusable_connections, dispatch_uid="store.drop_unusable_connections")
