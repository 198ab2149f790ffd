"""Services: the store's writes and the rules around them. They take validated data, never a request.

Reads go through store/selectors.py. Database errors propagate unchanged: store/errors.py turns them
into 503 (unavailable) or 400 (a value the database refused); an IntegrityError other than a lost
Idempotency-Key race is a 500.
"""
import hashlib
import json
import time

from django.conf import settings
from django.db import IntegrityError, transaction

from storeproject import flaws

from .models import OrderLine, OrderRequest, Product
from .selectors import order_get_by_idempotency_key


class IdempotencyConflict(Exception):
    """The Idempotency-Key already created an order from a different request (the view answers 422)."""


def product_create(*, brand, name, price, stock=0):
    return Product.objects.create(brand=brand, name=name, price=price, stock=stock)


def order_create(*, user, data, idempotency_key):
    """Create an order and its lines from the serializer's validated data; returns (order, replayed).

    The order and its lines are written in one transaction (unless the non_atomic_orders flaw is on).
    With an idempotency_key the user's order stored with that key, if any, is returned instead
    (replayed=True) when it came from the same request, and IdempotencyConflict is raised when it did
    not. The key lookup stays outside the write's transaction: a request that loses the insert race
    to a concurrent one with the same key (the unique constraint's IntegrityError) reads the winner's
    order in a fresh statement.
    """
    if flaws.on("duplicate_on_retry"):
        idempotency_key = None  # the flaw: the key is ignored, so a retry writes a second order
    fingerprint = request_fingerprint(data)
    if idempotency_key is not None:
        existing = order_get_by_idempotency_key(user=user, idempotency_key=idempotency_key)
        if existing is not None:
            return _order_replay(existing, fingerprint), True
    try:
        order = _order_write(user=user, data=data, idempotency_key=idempotency_key, fingerprint=fingerprint)
    except IntegrityError:
        # a concurrent request with the same key won the race: answer with its order
        existing = idempotency_key and order_get_by_idempotency_key(user=user, idempotency_key=idempotency_key)
        if not existing:
            raise
        return _order_replay(existing, fingerprint), True
    return order, False


def _order_replay(order, fingerprint):
    if order.request_fingerprint != fingerprint:
        raise IdempotencyConflict()
    return order


def _order_write(*, user, data, idempotency_key, fingerprint):
    cart = data["cart_snapshot"]
    fields = dict(
        user=user,
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
        # the flaw payment_status_writable lets the validated data choose it; else the server's default
        **({"payment_status": data["payment_status"]} if "payment_status" in data else {}),
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    if flaws.on("non_atomic_orders"):
        order = OrderRequest.objects.create(**fields)
        time.sleep(settings.STORE_FLAW_PAUSE_MS / 1000.0)  # the window a fault can land in
        OrderLine.objects.bulk_create(_order_lines(order, cart))
        return order
    with transaction.atomic():
        order = OrderRequest.objects.create(**fields)
        OrderLine.objects.bulk_create(_order_lines(order, cart))
    return order


def _order_lines(order, cart):
    return [
        OrderLine(
            order=order,
            product=item["product"],
            name=item["name"] or item["product"].name,
            quantity=item["quantity"],
            price=item["price"],
        )
        for item in cart
    ]


def snapshot_item(item):
    """A validated cart item as stored in the order's cart_snapshot (JSON)."""
    return {
        "product_id": item["product_id"],
        "name": item["name"],
        "quantity": item["quantity"],
        "price": float(item["price"]),
    }


def request_fingerprint(data):
    """sha256 of the validated request, so that a reused Idempotency-Key with another body is refused."""
    canonical = {
        key: (value.pk if hasattr(value, "pk") else value)
        for key, value in data.items()
        if key != "cart_snapshot"
    }
    canonical["cart_snapshot"] = [snapshot_item(item) for item in data.get("cart_snapshot", [])]
    raw = json.dumps(canonical, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()
