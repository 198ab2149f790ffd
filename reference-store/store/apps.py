from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "store"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from storeproject import flaws

        from . import db

        db.install()

        if flaws.on("idempotency_in_python"):
            from django.db.models.signals import post_migrate

            post_migrate.connect(drop_idempotency_constraint, sender=self, dispatch_uid="store.flaw_idempotency")


def drop_idempotency_constraint(using, **_kwargs):
    """The idempotency_in_python flaw: the database no longer enforces one order per (user, key)."""
    from django.db import connections

    with connections[using].cursor() as cursor:
        cursor.execute(
            "ALTER TABLE store_orderrequest DROP CONSTRAINT IF EXISTS order_request_user_idempotency_key_uniq"
        )
