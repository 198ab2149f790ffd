"""Every error the store returns is JSON; an unreachable database is a 503 with Retry-After."""
import logging
import traceback

from django.conf import settings
from django.db import DatabaseError, IntegrityError, InterfaceError
from django.http import JsonResponse
from rest_framework.views import exception_handler as drf_exception_handler

from storeproject import flaws

log = logging.getLogger("store")


def is_database_unavailable(exc):
    """Connection refused/lost, timeouts, a server in recovery: not a bug in the request.

    InterfaceError is not a DatabaseError in Django's hierarchy; "connection already closed" is one,
    seen under uvicorn workers when PostgreSQL crashed under a connection a thread still held
    (test:external, db-crash ledger: a 500 before this).
    """
    return isinstance(exc, (DatabaseError, InterfaceError)) and not isinstance(exc, IntegrityError)


def database_unavailable_response(exc):
    log.warning("database unavailable: %s", type(exc).__name__)
    if flaws.on("leaky_errors"):
        return leaky_response(exc, 500)
    response = JsonResponse(
        {"detail": "The service is temporarily unavailable. Please retry.", "code": "database_unavailable"},
        status=503,
    )
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
        return None


def bad_request(request, exception=None):
    return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)


def permission_denied(request, exception=None):
    return JsonResponse({"detail": "Permission denied.", "code": "permission_denied"}, status=403)


def not_found(request, exception=None):
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def server_error(request):
    return JsonResponse({"detail": "Internal server error.", "code": "server_error"}, status=500)
