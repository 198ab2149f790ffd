from decimal import Decimal, InvalidOperation

from django.db import DatabaseError
from rest_framework import serializers

from storeproject import flaws

from .models import Brand, OrderLine, OrderRequest, PickupPoint, Product
from .selectors import product_in_bulk

MAX_CART_LINES = 100
# a cart line's quantity: far below the column's 2^31-1, so that a huge number is a field error, not a database error
MAX_QUANTITY = 10000


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "name"]


class ProductSerializer(serializers.ModelSerializer):
    brand = serializers.PrimaryKeyRelatedField(queryset=Brand.objects.all())
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))

    class Meta:
        model = Product
        fields = ["id", "brand", "name", "price", "stock"]


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["product", "name", "quantity", "price"]


class OrderRequestSerializer(serializers.ModelSerializer):
    """Reads an order; validates a new one. The body's `user` is ignored: the token decides."""

    lines = OrderLineSerializer(many=True, read_only=True)
    pickup_point = serializers.PrimaryKeyRelatedField(
        queryset=PickupPoint.objects.all(), required=False, allow_null=True
    )
    total_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    status = serializers.ChoiceField(choices=["new"], required=False, default="new")
    # the server's alone; the payment_status_writable flaw lets a client set it
    payment_status = serializers.ChoiceField(
        choices=[c for c, _ in OrderRequest.PAYMENT_STATUSES],
        required=False,
        read_only=not flaws.on("payment_status_writable"),
    )
    accept_terms = serializers.BooleanField()
    # lenient on purpose: the runbook's own body uses "a@a.a", which Django's EmailValidator rejects
    email = serializers.RegexField(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254,
                                   error_messages={"invalid": "Enter an address like name@example.org."})

    class Meta:
        model = OrderRequest
        fields = [
            "id", "user", "full_name", "phone", "email", "delivery_type", "pickup_point",
            "payment_method", "cart_snapshot", "total_amount", "status", "payment_status", "accept_terms",
            "created_at", "idempotency_key", "lines",
        ]
        read_only_fields = ["id", "user", "created_at", "idempotency_key", "lines"]

    def validate_accept_terms(self, value):
        if value is not True:
            raise serializers.ValidationError("The terms must be accepted.")
        return value

    def validate_cart_snapshot(self, cart):
        if not isinstance(cart, list) or not cart:
            raise serializers.ValidationError("Must be a non-empty list of items.")
        if len(cart) > MAX_CART_LINES:
            raise serializers.ValidationError("At most %d items." % MAX_CART_LINES)
        errors, items = [], []
        ids = set()
        for index, raw in enumerate(cart):
            item, problem = parse_cart_item(raw)
            if problem:
                errors.append("item %d: %s" % (index, problem))
            else:
                items.append((index, item))
                ids.add(item["product_id"])
        try:
            products = product_in_bulk(ids=ids)
        except DatabaseError:
            if not flaws.on("db_error_as_400"):
                raise
            products = {}  # the flaw: the outage reads as "unknown product"
        for index, item in items:
            product = products.get(item["product_id"])
            if product is None:
                errors.append("item %d: unknown product %s" % (index, item["product_id"]))
            elif item["price"] != product.price:
                errors.append(
                    "item %d: price %s does not match product %s price %s"
                    % (index, item["price"], product.id, product.price)
                )
        if errors:
            raise serializers.ValidationError(errors)
        return [dict(item, product=products[item["product_id"]]) for _, item in items]

    def validate(self, attrs):
        if attrs.get("delivery_type") == "pickup" and attrs.get("pickup_point") is None:
            raise serializers.ValidationError({"pickup_point": ["A pickup order needs a pickup point."]})
        cart = attrs.get("cart_snapshot") or []
        expected = sum((item["price"] * item["quantity"] for item in cart), Decimal("0"))
        if attrs["total_amount"] != expected:
            problem = "Total %s does not equal the sum of the lines %s." % (attrs["total_amount"], expected)
            raise serializers.ValidationError({"total_amount": [problem]})
        return attrs


def parse_cart_item(raw):
    """One cart item -> ({product_id, name, quantity, price}, None) or (None, problem)."""
    if not isinstance(raw, dict):
        return None, "must be an object"
    product_id = raw.get("product_id")
    if isinstance(product_id, bool) or not isinstance(product_id, int):
        return None, "product_id must be an integer"
    quantity = raw.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        return None, "quantity must be a positive integer"
    # the data_error_as_outage flaw leaves these to the database (and then reads its refusal as an outage)
    if quantity > MAX_QUANTITY and not flaws.on("data_error_as_outage"):
        return None, "quantity must be at most %d" % MAX_QUANTITY
    try:
        price = Decimal(str(raw.get("price"))).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None, "price must be a number"
    if not price.is_finite():
        return None, "price must be a number"
    name = raw.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        return None, "name must be a string of at most 200 characters"
    if "\x00" in name and not flaws.on("data_error_as_outage"):
        return None, "name must not contain NUL characters"
    return {"product_id": product_id, "name": name, "quantity": quantity, "price": price}, None
