"""Every error the store returns is JSON; an unreachable database is a 503 with Retry-After."""
import logging
import traceback

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.db import DatabaseError, DataError, IntegrityError, InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework.views import exception_handler as drf_exception_handler

from storeproject import flaws

log = logging.getLogger("store")


# SQLSTATEs that say "the database cannot serve now, retry later" (PostgreSQL, Appendix A):
# 08 connection exceptions, 53 insufficient resources (too many connections, out of memory),
# 57 operator intervention (admin/crash shutdown, cannot connect now, query cancelled by the
# statement timeout), and the transient ones: serialization failure, deadlock, lock not available,
# a read-only transaction (a failover in progress)
UNAVAILABLE_CLASSES = ("08", "53", "57")
UNAVAILABLE_CODES = ("40001", "40P01", "55P03", "25006")


def sqlstate(exc):
    """The SQLSTATE of a database error (from the driver's exception Django wrapped), or None."""
    return getattr(exc.__cause__, "pgcode", None) or getattr(exc, "pgcode", None)


def is_database_unavailable(exc):
    """Connection refused/lost, timeouts, a server in recovery: not a bug in the request.

    InterfaceError is not a DatabaseError in Django's hierarchy; "connection already closed" is one,
    seen under uvicorn workers when PostgreSQL crashed under a connection a thread still held
    (test:external, db-crash ledger: a 500 before this). An error without a SQLSTATE came from the
    client library (no server answer): unavailable when it is operational.
    """
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, DatabaseError) or isinstance(exc, IntegrityError):
        return False
    if flaws.on("data_error_as_outage"):
        return True  # the flaw: every database error reads as an outage, client mistakes included
    code = sqlstate(exc)
    if code is None:
        return isinstance(exc, OperationalError)
    return code.startswith(UNAVAILABLE_CLASSES) or code in UNAVAILABLE_CODES


def is_client_data_error(exc):
    """A value the database refused (out of range, invalid byte sequence): the request's fault, a 400."""
    return isinstance(exc, DataError) and not is_database_unavailable(exc)


def invalid_data_response(exc):
    log.info("invalid data refused by the database: %s %s", type(exc).__name__, sqlstate(exc))
    return JsonResponse({"detail": "A value is out of range or malformed.", "code": "invalid_data"}, status=400)


def too_large_response():
    detail = "The request body is larger than %d bytes." % settings.STORE_MAX_BODY_BYTES
    return JsonResponse({"detail": detail, "code": "too_large"}, status=413)


def database_unavailable_response(exc):
    log.warning("database unavailable: %s", type(exc).__name__)
    if flaws.on("leaky_errors"):
        return leaky_response(exc, 500)
    detail = "The service is temporarily unavailable. Please retry."
    if flaws.on("driver_message_in_errors"):
        # the flaw: "helpful" errors, the driver's own words (no traceback, no exception class)
        detail = "The database is unavailable: %s" % " ".join(str(exc).split())
    response = JsonResponse({"detail": detail, "code": "database_unavailable"}, status=503)
    response["Retry-After"] = str(settings.STORE_RETRY_AFTER_S)
    return response


def leaky_response(exc, status):
    """The leaky_errors flaw: what a DEBUG=True store tells the world."""
    return JsonResponse(
        {"detail": str(exc), "exception": type(exc).__name__, "traceback": traceback.format_exc()},
        status=status,
    )


def api_exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response
    if is_database_unavailable(exc):
        return database_unavailable_response(exc)
    if is_client_data_error(exc):
        return invalid_data_response(exc)
    if isinstance(exc, RequestDataTooBig):
        return too_large_response()
    log.exception("unhandled error in %s", type(context.get("view")).__name__)
    if flaws.on("leaky_errors"):
        return leaky_response(exc, 500)
    return JsonResponse({"detail": "Internal server error.", "code": "server_error"}, status=500)


class DatabaseUnavailableMiddleware:
    """Turns a database error outside DRF views into the same 503 JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        if is_database_unavailable(exc):
            return database_unavailable_response(exc)
        if is_client_data_error(exc):
            return invalid_data_response(exc)
        return None


class CredentialLoggingMiddleware:
    """The logs_credentials flaw: each request's Authorization header and each login's body, logged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/token/"):
            log.info("login request %s body=%s", request.path, request.body.decode("utf-8", "replace")[:500])
        elif request.META.get("HTTP_AUTHORIZATION"):
            log.info("request %s %s authorization=%s", request.method, request.path, request.META["HTTP_AUTHORIZATION"])
        return self.get_response(request)


class NoStoreMiddleware:
    """Credentials and personal data are never kept by a cache on the way (a proxy, the browser's):
    token answers and every answer to a request with an Authorization header say Cache-Control: no-store."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/token/") or request.META.get("HTTP_AUTHORIZATION"):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response


class AllowedHostsMiddleware:
    """Checks the Host header against ALLOWED_HOSTS on every request. Django only checks when something
    asks for the host (CommonMiddleware, CSRF), and this API uses neither: without this, any Host passed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request.get_host()
        except DisallowedHost:
            return bad_request(request)
        return self.get_response(request)


class BodySizeLimitMiddleware:
    """Refuses a declared body over STORE_MAX_BODY_BYTES with 413 before reading it (a body without a
    length is cut at the same size by DATA_UPLOAD_MAX_MEMORY_SIZE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return bad_request(request)
        if length > settings.STORE_MAX_BODY_BYTES:
            return too_large_response()
        return self.get_response(request)


def bad_request(request, exception=None):
    return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)


def permission_denied(request, exception=None):
    return JsonResponse({"detail": "Permission denied.", "code": "permission_denied"}, status=403)


def not_found(request, exception=None):
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def server_error(request):
    return JsonResponse({"detail": "Internal server error.", "code": "server_error"}, status=500)
