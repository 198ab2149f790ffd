"""Flaw switches: documented defects a real store could have (STORE_FLAWS=a,b).

Each flaw exists so that one scenario of the suite can prove it catches it.
This module has no Django imports: settings.py and gunicorn.conf.py read it too.
"""
import os

#: name -> what goes wrong when the flaw is switched on
KNOWN_FLAWS = {
    "non_atomic_orders": "an order and its lines are written without a transaction, with a pause in between",
    "no_db_timeout": (
        "no connect_timeout/statement_timeout and no bounded calls on the database (a kept connection to a"
        " frozen server hangs), and Django's default logging (admin mails)"
    ),
    "stale_db_connections": "persistent connections (CONN_MAX_AGE) reused without the request-start ping",
    "leaky_errors": "DEBUG-style error bodies: exception text, SQL and traceback reach the client",
    "duplicate_on_retry": "Idempotency-Key is ignored, so a retried request creates a second order",
    "single_worker": "the server runs one worker whatever is configured, so a worker death is an outage",
    "no_graceful_shutdown": "workers exit at once on SIGTERM/reload, dropping in-flight requests",
    "db_error_as_400": (
        "a database error while checking the cart is taken for unknown products: a 400 the client will not retry"
    ),
    "no_statement_timeout": (
        "no statement_timeout: a statement behind a lock (a migration, a long transaction) waits forever"
    ),
    "data_error_as_outage": (
        "every database error is an outage: a value the database refuses (a NUL, a number out of range)"
        " is answered 503 and logged as an outage"
    ),
    "jwt_unverified": "the access token's signature and expiry are not checked: a forged or expired token is accepted",
    "orders_not_scoped": "an order read by id is not limited to the caller's own: any customer reads any order",
    "idempotency_in_python": (
        "no unique constraint on (user, Idempotency-Key): the key is checked in Python only,"
        " so concurrent retries race"
    ),
    "empty_list_on_db_error": (
        "a list view swallows a database error and answers 200 with an empty page: the client shows"
        " an empty catalogue instead of an outage"
    ),
    "read_cache_outside_db": (
        "product, brand and order reads are answered from a shared cache that only the API's own writes"
        " invalidate: a restore (or any change made in the database) is not seen"
    ),
    "idempotency_cache_outside_db": (
        "Idempotency-Key replays come from a shared cache, not the database: after a restore a retry"
        " replays an order that no longer exists"
    ),
    "payment_status_writable": "an order's payment_status, which only the server decides, is writable by the client",
    "throttle_per_worker": (
        "the login limit is counted in each worker's memory: N workers let N times as many guesses through"
    ),
    "rare_restart_drop": (
        "about one server instance in eight (STORE_FLAW_RATE, 0.125) drops its in-flight requests when it"
        " is stopped or reloaded"
    ),
    "forwarded_for_trusted": (
        "X-Forwarded-For is trusted from any client (no proxy configured): a new header on each guess is a new"
        " throttle bucket, and guesses sent in a victim's name lock the victim out"
    ),
    "throttle_raw_username": (
        "the login throttle keys on the username as sent: padded with spaces it is a new bucket (authentication"
        " strips them), and a lone surrogate breaks the cache key (500)"
    ),
    "no_login_address_cap": "no limit per client address across usernames: one password sprayed over many accounts",
    "refresh_per_address": (
        "token refreshes are limited per client address, not per user: from many addresses, no limit"
    ),
    "body_read_before_limit": (
        "the body limit is checked by a Django middleware only: under uvicorn the whole body (declared or"
        " chunked) is read into memory before it"
    ),
    "logs_credentials": "the store logs each login's body and each request's Authorization header",
    "health_tells_internals": (
        "anonymous /api/health/ and /api/live/ tell the worker pid, the server kind and the flaws"
    ),
    "driver_message_in_errors": (
        "the controlled 503 carries the database driver's message: its body varies with the cause and"
        " names the server (host and port, where the driver says them)"
    ),
}


def parse_flaws(raw):
    """Parse a comma-separated flaw list; raise ValueError naming an unknown flaw."""
    names = [part.strip() for part in (raw or "").split(",") if part.strip()]
    unknown = [name for name in names if name not in KNOWN_FLAWS]
    if unknown:
        raise ValueError(
            "STORE_FLAWS: unknown flaw(s) %s; known: %s" % (", ".join(unknown), ", ".join(sorted(KNOWN_FLAWS)))
        )
    return frozenset(names)


ACTIVE = parse_flaws(os.environ.get("STORE_FLAWS", ""))


def on(name):
    """True when the named flaw is switched on for this process."""
    if name not in KNOWN_FLAWS:
        raise KeyError("unknown flaw %r" % name)
    return name in ACTIVE
