import hashlib
import json
import logging
import os
import re
import time

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import JsonResponse
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from storeproject import flaws

from .errors import database_unavailable_response, is_database_unavailable
from .models import Brand, OrderLine, OrderRequest, Product
from .serializers import BrandSerializer, OrderRequestSerializer, ProductSerializer

log = logging.getLogger("store")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def live(request):
    """Liveness: the process answers (no database). /api/health/ is readiness."""
    return JsonResponse({"status": "alive", "pid": os.getpid()})


def health(request):
    """200 when the database answers a query, else 503; both JSON."""
    info = {"server": settings.STORE_SERVER_KIND, "pid": os.getpid(), "flaws": settings.STORE_FLAWS}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
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
    queryset = Brand.objects.all().order_by("id")
    serializer_class = BrandSerializer
    permission_classes = [permissions.AllowAny]
    pagination_class = PublicPagination


class ProductViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Product.objects.all().order_by("id")
    serializer_class = ProductSerializer
    permission_classes = [PublicReadStaffWrite]
    pagination_class = PublicPagination


class OrderPagination(StrictLimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class OrderRequestViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """POST creates an order and its lines in one transaction; GET lists the caller's own."""

    serializer_class = OrderRequestSerializer
    pagination_class = OrderPagination

    def get_queryset(self):
        if flaws.on("orders_not_scoped") and self.action == "retrieve":
            return OrderRequest.objects.all().prefetch_related("lines")  # the flaw: any order by id
        return OrderRequest.objects.filter(user=self.request.user).prefetch_related("lines")

    def create(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is not None and not IDEMPOTENCY_KEY.match(key):
            raise ValidationError({"Idempotency-Key": ["1-100 characters of A-Z a-z 0-9 . _ : -"]})
        if flaws.on("duplicate_on_retry"):
            key = None
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fingerprint = request_fingerprint(serializer.validated_data)
        if key is not None:
            existing = OrderRequest.objects.filter(user=request.user, idempotency_key=key).first()
            if existing is not None:
                return self.replay(existing, fingerprint)
        try:
            order = self.write_order(serializer.validated_data, key, fingerprint)
        except IntegrityError:
            # a concurrent request with the same key won the race: answer with its order
            existing = key and OrderRequest.objects.filter(user=request.user, idempotency_key=key).first()
            if not existing:
                raise
            return self.replay(existing, fingerprint)
        return Response(self.get_serializer(order).data, status=status.HTTP_201_CREATED)

    def replay(self, order, fingerprint):
        if order.request_fingerprint != fingerprint:
            return Response(
                {"detail": "This Idempotency-Key was already used with a different request.", "code": "idempotency_conflict"},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        response = Response(self.get_serializer(order).data, status=status.HTTP_201_CREATED)
        response["Idempotent-Replayed"] = "true"
        return response

    def write_order(self, data, key, fingerprint):
        cart = data["cart_snapshot"]
        fields = dict(
            user=self.request.user,
            full_name=data["full_name"],
            phone=data["phone"],
            email=data["email"],
            delivery_type=data["delivery_type"],
            pickup_point=data.get("pickup_point"),
            payment_method=data["payment_method"],
            cart_snapshot=[snapshot_item(item) for item in cart],
            total_amount=data["total_amount"],
            status="new",
            accept_terms=True,
            idempotency_key=key,
            request_fingerprint=fingerprint,
        )
        lines = lambda order: [  # noqa: E731
            OrderLine(order=order, product=item["product"], name=item["name"] or item["product"].name,
                      quantity=item["quantity"], price=item["price"])
            for item in cart
        ]
        if flaws.on("non_atomic_orders"):
            order = OrderRequest.objects.create(**fields)
            time.sleep(settings.STORE_FLAW_PAUSE_MS / 1000.0)  # the window a fault can land in
            OrderLine.objects.bulk_create(lines(order))
            return order
        with transaction.atomic():
            order = OrderRequest.objects.create(**fields)
            OrderLine.objects.bulk_create(lines(order))
        return order


def snapshot_item(item):
    return {"product_id": item["product_id"], "name": item["name"], "quantity": item["quantity"], "price": float(item["price"])}


def request_fingerprint(data):
    canonical = {
        key: (value.pk if hasattr(value, "pk") else value)
        for key, value in data.items()
        if key != "cart_snapshot"
    }
    canonical["cart_snapshot"] = [snapshot_item(item) for item in data.get("cart_snapshot", [])]
    raw = json.dumps(canonical, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()
