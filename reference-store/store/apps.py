from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "store"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import db  # noqa: F401  (connects the request_started connection check)
