"""Settings of the reference store, all from the environment (DEBUG off by default)."""
import os
from urllib.parse import unquote, urlparse

import django

from . import flaws


def env_str(name, default=None):
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_int(name, default):
    raw = env_str(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError("%s must be an integer, got %r" % (name, raw))


def env_bool(name, default=False):
    raw = env_str(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("%s must be a boolean (1/0, true/false), got %r" % (name, raw))


def database_from_env():
    """STORE_DATABASE_URL=postgres://user:pass@host:port/name, or the STORE_DB_* variables."""
    url = env_str("STORE_DATABASE_URL")
    if url:
        parts = urlparse(url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise ValueError("STORE_DATABASE_URL must start with postgres://, got scheme %r" % parts.scheme)
        db = {
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
        }
    else:
        db = {
            "NAME": env_str("STORE_DB_NAME", "store"),
            "USER": env_str("STORE_DB_USER", "store"),
            "PASSWORD": env_str("STORE_DB_PASSWORD", ""),
            "HOST": env_str("STORE_DB_HOST", "127.0.0.1"),
            "PORT": env_str("STORE_DB_PORT", "5432"),
        }
    options = {}
    if not flaws.on("no_db_timeout"):
        # libpq gives up on an unreachable or frozen server after this many seconds
        options["connect_timeout"] = env_int("STORE_DB_CONNECT_TIMEOUT", 2)
        # the server cancels any statement that runs longer (a stuck lock, a runaway query)
        if not flaws.on("no_statement_timeout"):
            options["options"] = "-c statement_timeout=%d" % env_int("STORE_DB_STATEMENT_TIMEOUT_MS", 5000)
    # sslmode of the store's own connection (disable: the fault proxy can read the statements)
    if env_str("STORE_DB_SSLMODE"):
        options["sslmode"] = env_str("STORE_DB_SSLMODE")
    db.update(
        {
            "ENGINE": "django.db.backends.postgresql",
            "OPTIONS": options,
            # kept for a minute: every call on them is bounded (store/db.py); 0 is a connection per request
            "CONN_MAX_AGE": env_int("STORE_CONN_MAX_AGE", 60),
            "ATOMIC_REQUESTS": False,
        }
    )
    if django.VERSION >= (4, 1):
        # store.db.ConnectionCheckMiddleware pings kept connections, with a bound Django's check lacks
        db["CONN_HEALTH_CHECKS"] = False
    return db


BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# also the JWT signing key: a constant from the repository would let anyone mint a staff token
SECRET_KEY = env_str("STORE_SECRET_KEY")
if SECRET_KEY is None or len(SECRET_KEY) < 32:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "STORE_SECRET_KEY must be set to a random string of at least 32 characters "
        "(it signs the JWTs; e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
    )
DEBUG = env_bool("STORE_DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in env_str("STORE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]

STORE_FLAWS = sorted(flaws.ACTIVE)
# the pause between writing an order and its lines under the non_atomic_orders flaw
STORE_FLAW_PAUSE_MS = env_int("STORE_FLAW_PAUSE_MS", 250)
STORE_SERVER_KIND = env_str("STORE_SERVER", "gunicorn")
# seconds a client should wait before retrying a 503
STORE_RETRY_AFTER_S = env_int("STORE_RETRY_AFTER_S", 1)

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "store",
]

MIDDLEWARE = [
    "store.errors.NoStoreMiddleware",
    "store.errors.AllowedHostsMiddleware",
    "store.errors.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "store.errors.DatabaseUnavailableMiddleware",
]
if flaws.on("logs_credentials"):
    MIDDLEWARE.insert(0, "store.errors.CredentialLoggingMiddleware")
if not flaws.on("stale_db_connections"):
    # the flaw: kept connections are used without a check, and the first request after a restart fails
    MIDDLEWARE.append("store.db.ConnectionCheckMiddleware")

# the bounds of every database call (store/db.py): a connect, the ping of a kept connection, and
# the interval at which a longer call asks whether the server is still alive
STORE_DB_CONNECT_TIMEOUT_S = env_int("STORE_DB_CONNECT_TIMEOUT", 2)
STORE_DB_PING_TIMEOUT_S = env_int("STORE_DB_PING_TIMEOUT_MS", 1000) / 1000
STORE_DB_LIVENESS_S = env_int("STORE_DB_LIVENESS_MS", 1000) / 1000

# request bodies over this are refused with 413 before they are read (an order is a few kB)
STORE_MAX_BODY_BYTES = env_int("STORE_MAX_BODY_BYTES", 256 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = STORE_MAX_BODY_BYTES


def private_folder(path):
    """The cache folder, created 0700; refused when another user owns it or others may write to it:
    the file cache unpickles what it finds there, so a planted file would run as the store."""
    import stat

    from django.core.exceptions import ImproperlyConfigured

    os.makedirs(path, mode=0o700, exist_ok=True)
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise ImproperlyConfigured("STORE_CACHE_DIR %s is not a folder (a symbolic link is refused)" % path)
    if st.st_uid != os.getuid():
        raise ImproperlyConfigured(
            "STORE_CACHE_DIR %s belongs to uid %d, not to the store's (%d)" % (path, st.st_uid, os.getuid())
        )
    if st.st_mode & 0o077:
        raise ImproperlyConfigured(
            "STORE_CACHE_DIR %s is open to others (mode %o): it must be 0700" % (path, st.st_mode & 0o777)
        )
    return path


# the login throttle's counters, shared by every worker (a per-process cache would multiply the limit);
# a private folder: in a shared /tmp a planted pickle would run as the store
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": private_folder(env_str("STORE_CACHE_DIR", os.path.join("/tmp", "store-cache-%d" % os.getuid()))),
    },
    # one per process: only the throttle_per_worker flaw uses it
    "worker": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}

ROOT_URLCONF = "storeproject.urls"
WSGI_APPLICATION = "storeproject.wsgi.application"
ASGI_APPLICATION = "storeproject.asgi.application"
DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TEMPLATES = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["store.auth.StoreJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # \u-escaped JSON: an error that echoes a lone surrogate a client sent ("'\ud800' is not a valid
    # choice") cannot be encoded as UTF-8, and was a 500 (found by the fuzz family)
    "UNICODE_JSON": False,
    "DEFAULT_PARSER_CLASSES": ["store.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "store.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    # guessing passwords: each guess costs a PBKDF2 hash on a worker (see store/throttles.py)
    "DEFAULT_THROTTLE_RATES": {
        "login": env_str("STORE_LOGIN_RATE", "10/min"),
        "login_address": env_str("STORE_LOGIN_ADDRESS_RATE", "60/min"),
        "refresh": env_str("STORE_REFRESH_RATE", "10/min"),
    },
    # the client address is REMOTE_ADDR; X-Forwarded-For only from this many trusted proxies in front
    "NUM_PROXIES": env_int("STORE_NUM_PROXIES", 0),
}

from datetime import timedelta  # noqa: E402

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("STORE_ACCESS_TOKEN_MINUTES", 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "SIGNING_KEY": SECRET_KEY,
    "UPDATE_LAST_LOGIN": False,
}

# Only the console: Django's default adds mail_admins, whose error report re-runs the
# request's lazy queries; measured, a frozen DB with connect_timeout=2 then answered after 12 s.
if not flaws.on("no_db_timeout"):
    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "loggers": {
            "django": {"handlers": ["console"], "level": env_str("STORE_LOG_LEVEL", "INFO"), "propagate": False},
            "store": {"handlers": ["console"], "level": env_str("STORE_LOG_LEVEL", "INFO"), "propagate": False},
        },
    }
else:
    # the flaw: Django's defaults, including the admin-mail handler (it formats a full error report)
    ADMINS = [("ops", "ops@example.invalid")]
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
