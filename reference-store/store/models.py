from django.conf import settings
from django.db import models


class Brand(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["id"]


class Product(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]


class PickupPoint(models.Model):
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]


class OrderRequest(models.Model):
    DELIVERY_TYPES = [("pickup", "Pickup"), ("courier", "Courier")]
    PAYMENT_METHODS = [("card_now", "Card now"), ("card_on_delivery", "Card on delivery"), ("cash", "Cash")]
    STATUSES = [("new", "New"), ("confirmed", "Confirmed"), ("cancelled", "Cancelled")]
    PAYMENT_STATUSES = [("unpaid", "Unpaid"), ("paid", "Paid"), ("refunded", "Refunded")]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="order_requests")
    full_name = models.CharField(max_length=200)
    phone = models.CharField(max_length=40)
    email = models.EmailField()
    delivery_type = models.CharField(max_length=20, choices=DELIVERY_TYPES)
    pickup_point = models.ForeignKey(PickupPoint, null=True, blank=True, on_delete=models.PROTECT)
    payment_method = models.CharField(max_length=30, choices=PAYMENT_METHODS)
    cart_snapshot = models.JSONField()
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=20, choices=STATUSES, default="new")
    # decided by the server alone (a payment provider's callback); a client never sets it
    payment_status = models.CharField(max_length=20, choices=PAYMENT_STATUSES, default="unpaid")
    accept_terms = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    # sha256 of the validated request, so a reused key with another body is refused
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "idempotency_key"], name="order_request_user_idempotency_key_uniq"),
        ]


class OrderLine(models.Model):
    order = models.ForeignKey(OrderRequest, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
