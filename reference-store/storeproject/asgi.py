import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from storeproject import flaws
from storeproject.bodylimit import AsgiBodyLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storeproject.settings")
# the body limit while the body is read: Django's ASGI handler reads it whole before any middleware
application = get_asgi_application()
if not flaws.on("body_read_before_limit"):
    application = AsgiBodyLimit(application, settings.STORE_MAX_BODY_BYTES)
