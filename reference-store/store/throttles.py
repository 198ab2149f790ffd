"""Login throttling: per username and client address, so that guessing one account's password is
slowed to STORE_LOGIN_RATE (default 10/min) without locking everyone else out."""
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from storeproject import flaws


class LoginRateThrottle(SimpleRateThrottle):
    scope = "login"
    # shared by every worker; the throttle_per_worker flaw counts in each worker's memory
    cache = caches["worker" if flaws.on("throttle_per_worker") else "default"]

    def get_cache_key(self, request, view):
        username = ""
        if isinstance(getattr(request, "data", None), dict):
            username = str(request.data.get("username", ""))[:150]
        return self.cache_format % {"scope": self.scope, "ident": "%s|%s" % (self.get_ident(request), username)}
