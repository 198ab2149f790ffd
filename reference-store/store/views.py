"""Views: parse and validate the request, call a service (store/services.py) or a selector
(store/selectors.py), shape the response."""
import re

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError
from django.http import JsonResponse
from rest_framework import permissions, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from storeproject import flaws

from .errors import database_unavailable_response, is_database_unavailable
from .selectors import brand_list, database_ping, order_list, order_retrievable_list, product_list
from .serializers import BrandSerializer, OrderRequestSerializer, ProductSerializer
from .services import IdempotencyConflict, order_create, product_create, request_fingerprint

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def _internals():
    """What the health_tells_internals flaw adds to anonymous answers."""
    if not flaws.on("health_tells_internals"):
        return {}
    import os

    return {"server": settings.STORE_SERVER_KIND, "pid": os.getpid(), "flaws": settings.STORE_FLAWS}


def live(request):
    """Liveness: the process answers (no database). /api/health/ is readiness."""
    return JsonResponse(dict(_internals(), status="alive"))


def health(request):
    """200 when the database answers a query, else 503; both JSON, and nothing about the process
    (its pid, server or flaws tell an anonymous client what to attack: the log has them)."""
    info = _internals()
    try:
        database_ping()
    except Exception as exc:  # any failure to reach the DB is "unavailable", never a 500 page
        if not is_database_unavailable(exc):
            raise
        response = database_unavailable_response(exc)
        if response.status_code == 503:
            response = JsonResponse(dict(info, status="unavailable", database="unreachable"), status=503)
            response["Retry-After"] = str(settings.STORE_RETRY_AFTER_S)
        return response
    return JsonResponse(dict(info, status="ok", database="ok"))


class PublicReadStaffWrite(permissions.BasePermission):
    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """limit/offset that are not non-negative integers are a 400, not silently the default."""

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param)
        if raw is not None and not (raw.isdigit() and 0 < int(raw) <= 10 ** 9):
            raise ValidationError({"limit": ["A positive integer, at most %d is used." % self.max_limit]})
        return super().get_limit(request)

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        if raw is not None and not (raw.isdigit() and int(raw) <= 10 ** 9):
            raise ValidationError({"offset": ["A non-negative integer."]})
        return super().get_offset(request)


class PublicPagination(StrictLimitOffsetPagination):
    default_limit = 100
    max_limit = 500


# the read_cache_outside_db flaw: reads kept in the shared cache for this long
FLAW_READ_CACHE_S = 600


def _read_cache_generation():
    """The read_cache_outside_db flaw's generation: the API's own writes bump it, nothing else does."""
    return cache.get("flaw-read-generation", 0)


def _bump_read_cache():
    if flaws.on("read_cache_outside_db"):
        cache.set("flaw-read-generation", _read_cache_generation() + 1, None)


class FlawedReadsMixin:
    """Reads as the flaws empty_list_on_db_error and read_cache_outside_db answer them (off: DRF's own)."""

    def _cached(self, request, read):
        if not flaws.on("read_cache_outside_db"):
            return read()
        user = getattr(request.user, "pk", None)
        key = "flaw-read:%s:%s:%s" % (_read_cache_generation(), user, request.get_full_path())
        data = cache.get(key)
        if data is None:
            response = read()
            if response.status_code != 200:
                return response
            data = response.data
            cache.set(key, data, FLAW_READ_CACHE_S)
        return Response(data)

    def list(self, request, *args, **kwargs):
        read = lambda: super(FlawedReadsMixin, self).list(request, *args, **kwargs)  # noqa: E731
        if not flaws.on("empty_list_on_db_error"):
            return self._cached(request, read)
        try:
            return self._cached(request, read)
        except (DatabaseError, InterfaceError):
            # the flaw: the outage is swallowed, the client sees an empty page
            return Response({"count": 0, "next": None, "previous": None, "results": []})

    def retrieve(self, request, *args, **kwargs):
        return self._cached(request, lambda: super(FlawedReadsMixin, self).retrieve(request, *args, **kwargs))


class BrandViewSet(FlawedReadsMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = BrandSerializer
    permission_classes = [permissions.AllowAny]
    pagination_class = PublicPagination

    def get_queryset(self):
        return brand_list()


class ProductViewSet(FlawedReadsMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ProductSerializer
    permission_classes = [PublicReadStaffWrite]
    pagination_class = PublicPagination

    def get_queryset(self):
        return product_list()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = product_create(**serializer.validated_data)
        _bump_read_cache()
        return Response(self.get_serializer(product).data, status=status.HTTP_201_CREATED)


class OrderPagination(StrictLimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class OrderRequestViewSet(FlawedReadsMixin, viewsets.ReadOnlyModelViewSet):
    """POST creates an order and its lines in one transaction; GET lists the caller's own."""

    serializer_class = OrderRequestSerializer
    pagination_class = OrderPagination

    def get_queryset(self):
        if self.action == "retrieve":
            return order_retrievable_list(user=self.request.user)
        return order_list(user=self.request.user)

    def create(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is not None and not IDEMPOTENCY_KEY.match(key):
            raise ValidationError({"Idempotency-Key": ["1-100 characters of A-Z a-z 0-9 . _ : -"]})
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cached_key = None
        if key is not None and flaws.on("idempotency_cache_outside_db"):
            # the flaw: a replay comes from the shared cache, whatever the database holds now
            cached_key = "flaw-idempotency:%s:%s" % (request.user.pk, key)
            cached = cache.get(cached_key)
            if cached is not None:
                if cached["fingerprint"] != request_fingerprint(serializer.validated_data):
                    return _idempotency_conflict()
                return Response(cached["data"], status=status.HTTP_201_CREATED, headers={"Idempotent-Replayed": "true"})
        try:
            order, replayed = order_create(user=request.user, data=serializer.validated_data, idempotency_key=key)
        except IdempotencyConflict:
            return _idempotency_conflict()
        data = self.get_serializer(order).data
        if cached_key is not None:
            cache.set(cached_key, {"fingerprint": order.request_fingerprint, "data": data}, 24 * 3600)
        if not replayed:
            _bump_read_cache()
        response = Response(data, status=status.HTTP_201_CREATED)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


def _idempotency_conflict():
    return Response(
        {
            "detail": "This Idempotency-Key was already used with a different request.",
            "code": "idempotency_conflict",
        },
        status=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )
