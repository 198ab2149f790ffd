import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from storeproject import flaws
from storeproject.bodylimit import WsgiBodyLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storeproject.settings")
# the body limit while the body is read, chunked bodies included
application = get_wsgi_application()
if not flaws.on("body_read_before_limit"):
    application = WsgiBodyLimit(application, settings.STORE_MAX_BODY_BYTES)
