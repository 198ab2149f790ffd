"""Idempotent seed: two customers and one staff user, brands, products, pickup point 1.

Product 1 is "Test" at 10.00 and pickup point 1 exists, so the runbook's exact curl body
answers 201 for customer1. Running it again changes nothing (passwords are reset to
STORE_SEED_PASSWORD only when they differ).
"""
import os
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction

from store.models import Brand, PickupPoint, Product

USERS = [
    ("customer1", "customer1@example.test", False),
    ("customer2", "customer2@example.test", False),
    ("staff", "staff@example.test", True),
]
BRANDS = [(1, "Acme"), (2, "Globex")]
PRODUCTS = [
    (1, 1, "Test", Decimal("10.00"), 1000000),
    (2, 1, "Widget", Decimal("25.50"), 500),
    (3, 2, "Gadget", Decimal("99.99"), 200),
]
PICKUP_POINTS = [(1, "Central pickup point", "1 Main Street")]


class Command(BaseCommand):
    help = "Create the reference store's seed data (idempotent)."

    def handle(self, *args, **options):
        password = os.environ.get("STORE_SEED_PASSWORD")
        if not password:
            raise CommandError("STORE_SEED_PASSWORD is required: the password of the seed users")
        with transaction.atomic():
            users = self.seed_users(password)
            for pk, name in BRANDS:
                Brand.objects.update_or_create(id=pk, defaults={"name": name})
            for pk, brand_id, name, price, stock in PRODUCTS:
                Product.objects.update_or_create(
                    id=pk, defaults={"brand_id": brand_id, "name": name, "price": price, "stock": stock}
                )
            for pk, name, address in PICKUP_POINTS:
                PickupPoint.objects.update_or_create(id=pk, defaults={"name": name, "address": address})
            # explicit ids leave the sequences behind: move them past the seeded rows
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), [Brand, Product, PickupPoint]):
                    cursor.execute(sql)
        self.stdout.write("seeded: users %s; brands %d; products %d; pickup points %d" % (
            ", ".join(users), len(BRANDS), len(PRODUCTS), len(PICKUP_POINTS)))

    def seed_users(self, password):
        User = get_user_model()
        names = []
        for username, email, staff in USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": email, "is_staff": staff, "is_active": True}
            )
            changed = created or user.is_staff != staff or not user.is_active
            user.is_staff, user.is_active = staff, True
            if created or not user.check_password(password):
                user.set_password(password)
                changed = True
            if changed:
                user.save()
            names.append("%s(id %d)" % (username, user.id))
        return names
