"""Login throttling: per username and client address, so that guessing one account's password is
slowed to STORE_LOGIN_RATE (default 10/min) without locking everyone else out."""
from rest_framework.throttling import SimpleRateThrottle


class LoginRateThrottle(SimpleRateThrottle):
    scope = "login"

    def get_cache_key(self, request, view):
        username = ""
        if isinstance(getattr(request, "data", None), dict):
            username = str(request.data.get("username", ""))[:150]
        return self.cache_format % {"scope": self.scope, "ident": "%s|%s" % (self.get_ident(request), username)}
