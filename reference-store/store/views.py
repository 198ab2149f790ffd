"""Views: parse and validate the request, call a service (store/services.py) or a selector
(store/selectors.py), shape the response."""
import os
import re

from django.conf import settings
from django.http import JsonResponse
from rest_framework import permissions, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from .errors import database_unavailable_response, is_database_unavailable
from .selectors import brand_list, database_ping, order_list, order_retrievable_list, product_list
from .serializers import BrandSerializer, OrderRequestSerializer, ProductSerializer
from .services import IdempotencyConflict, order_create, product_create

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def live(request):
    """Liveness: the process answers (no database). /api/health/ is readiness."""
    return JsonResponse({"status": "alive", "pid": os.getpid()})


def health(request):
    """200 when the database answers a query, else 503; both JSON."""
    info = {"server": settings.STORE_SERVER_KIND, "pid": os.getpid(), "flaws": settings.STORE_FLAWS}
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


class BrandViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = BrandSerializer
    permission_classes = [permissions.AllowAny]
    pagination_class = PublicPagination

    def get_queryset(self):
        return brand_list()


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProductSerializer
    permission_classes = [PublicReadStaffWrite]
    pagination_class = PublicPagination

    def get_queryset(self):
        return product_list()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = product_create(**serializer.validated_data)
        return Response(self.get_serializer(product).data, status=status.HTTP_201_CREATED)


class OrderPagination(StrictLimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class OrderRequestViewSet(viewsets.ReadOnlyModelViewSet):
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
        try:
            order, replayed = order_create(user=request.user, data=serializer.validated_data, idempotency_key=key)
        except IdempotencyConflict:
            return Response(
                {
                    "detail": "This Idempotency-Key was already used with a different request.",
                    "code": "idempotency_conflict",
                },
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        response = Response(self.get_serializer(order).data, status=status.HTTP_201_CREATED)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response
