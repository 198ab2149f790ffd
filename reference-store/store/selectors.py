"""Selectors: the store's reads. Each returns a queryset, a dict or one object and writes nothing.

Views and serializers read through these; services (store/services.py) do the writes.
"""
from django.db import connection

from storeproject import flaws

from .models import Brand, OrderRequest, Product


def database_ping():
    """One round trip to the database (`SELECT 1`); raises the driver's error when it cannot answer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def brand_list():
    return Brand.objects.all().order_by("id")


def product_list():
    return Product.objects.all().order_by("id")


def product_in_bulk(*, ids):
    """{id: Product} for the ids that exist; one query (none for no ids)."""
    return Product.objects.in_bulk(list(ids))


def order_list(*, user):
    """The user's own orders with their lines, newest first."""
    return OrderRequest.objects.filter(user=user).prefetch_related("lines")


def order_retrievable_list(*, user):
    """The orders the user may read by id: their own (any order with the orders_not_scoped flaw)."""
    if flaws.on("orders_not_scoped"):
        return OrderRequest.objects.all().prefetch_related("lines")  # the flaw: any order by id
    return order_list(user=user)


def order_get_by_idempotency_key(*, user, idempotency_key):
    """The user's order stored with this Idempotency-Key, or None."""
    return OrderRequest.objects.filter(user=user, idempotency_key=idempotency_key).first()
