"""Login throttling. Guessing one account's password is slowed to STORE_LOGIN_RATE (10/min) per
username and client address, without locking the account's owner out from another address; spraying
one password over many usernames is capped per address (STORE_LOGIN_ADDRESS_RATE, 60/min); a refresh
token is limited per user (STORE_REFRESH_RATE, 10/min). The client address is REMOTE_ADDR unless
STORE_NUM_PROXIES trusted proxies set X-Forwarded-For (DRF's NUM_PROXIES): a header anyone can send
never chooses the bucket. The username is keyed as authentication reads it (DRF's CharField strips
the whitespace around it), and hashed, so that any string, a lone surrogate included, is a key.
"""
import base64
import hashlib
import json

from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from storeproject import flaws


def _digest(text):
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def _field(request, name):
    data = getattr(request, "data", None)
    value = data.get(name, "") if isinstance(data, dict) else ""
    return value if isinstance(value, str) else ""


class _StoreThrottle(SimpleRateThrottle):
    # shared by every worker; the throttle_per_worker flaw counts in each worker's memory
    cache = caches["worker" if flaws.on("throttle_per_worker") else "default"]

    def key_for(self, ident):
        return self.cache_format % {"scope": self.scope, "ident": _digest(ident)}


class _Flawed:
    """get_ident as the forwarded_for_trusted flaw has it: DRF without NUM_PROXIES trusts X-Forwarded-For."""

    def get_ident(self, request):
        if flaws.on("forwarded_for_trusted"):
            xff = request.META.get("HTTP_X_FORWARDED_FOR")
            return "".join(xff.split()) if xff else request.META.get("REMOTE_ADDR")
        return super().get_ident(request)


class LoginRateThrottle(_Flawed, _StoreThrottle):
    """Per client address and username, the username as authentication reads it."""

    scope = "login"

    def get_cache_key(self, request, view):
        if flaws.on("throttle_raw_username"):
            # the flaw: the name as sent, in the key as it is (the file cache's key must encode)
            data = getattr(request, "data", None)
            raw = str(data.get("username", ""))[:150] if isinstance(data, dict) else ""
            return self.cache_format % {"scope": self.scope, "ident": "%s|%s" % (self.get_ident(request), raw)}
        return self.key_for("%s|%s" % (self.get_ident(request), _field(request, "username").strip()))


class LoginAddressThrottle(_Flawed, _StoreThrottle):
    """Per client address, whatever the username: one password sprayed over many accounts."""

    scope = "login_address"

    def get_cache_key(self, request, view):
        if flaws.on("no_login_address_cap"):
            return None  # the flaw: no cap
        return self.key_for(self.get_ident(request))


class RefreshRateThrottle(_Flawed, _StoreThrottle):
    """Per user of the refresh token (its claim, read unverified: the view verifies it), else per address."""

    scope = "refresh"

    def get_cache_key(self, request, view):
        if flaws.on("refresh_per_address"):
            return self.key_for("address:%s" % self.get_ident(request))
        token = _field(request, "refresh")
        user = None
        try:
            payload = token.split(".")[1]
            user = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("user_id")
        except (IndexError, ValueError, AttributeError):
            pass
        return self.key_for("user:%s" % user if user is not None else "address:%s" % self.get_ident(request))
