"""Marquee settings: one module, every value from the environment.

Embedded defaults need no configuration (SQLite under var/, in-memory layers,
console mail).  ``DATABASE_URL`` and ``REDIS_URL`` switch the same code to
PostgreSQL and Redis.  ``DEBUG=0`` turns on the production safety nets and
requires real secrets.  It is long on purpose: every setting lives here, once,
grouped by capability, so there is one place to read what a deployment can set.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from marquee.lib.converters import ID_SCHEMA
from marquee.lib.env import (
    ImproperlyConfiguredEnv,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    env_str,
)
from marquee.shows.ladder import DEFAULT_LADDER, parse_ladder

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MARQUEE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

TESTING = "pytest" in sys.modules or env_bool("MARQUEE_TESTING", False)
DEBUG = env_bool("DEBUG", True)
# With DEBUG on, show the site's 404/500 pages (traceback in the console)
# rather than Django's technical pages; 0 brings those back.
STYLED_ERROR_PAGES = env_bool("STYLED_ERROR_PAGES", True)

_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET) if DEBUG else env_str("SECRET_KEY")
if not DEBUG and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50):
    raise ImproperlyConfiguredEnv("SECRET_KEY must be a random string of at least 50 characters when DEBUG=0")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfiguredEnv("ALLOWED_HOSTS must be set when DEBUG=0")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{env_int('PORT', 8000, minimum=1, maximum=65535)}")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Consumers and routing only: chat publishes through marquee.lib.realtime,
    # not a channel layer (docs/design.md).
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
    "allauth.usersessions",
    "marquee.accounts",
    "marquee.compliance",
    "marquee.performers",
    "marquee.shows",
    "marquee.ledger",
    "marquee.audit",
    "marquee.billing",
    "marquee.chat",
    "marquee.content",
    "marquee.access",
    "marquee.recommendations",
    "marquee.earnings",
    "marquee.privates",
    "marquee.schedule",
    "marquee.dashboard",
    "marquee.ops",
    "marquee.privacy",
]

MIDDLEWARE = [
    "marquee.lib.logs.RequestIDMiddleware",
    "marquee.ops.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "marquee.lib.middleware.ClientIPMiddleware",
    "marquee.lib.middleware.JSONBodyGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "marquee.lib.middleware.TimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "marquee.accounts.middleware.StaffTwoFactorMiddleware",
    # Blocked regions get 451 on every page and API call; verify-regions are
    # sent to the age-verification page before any page with adult content.
    "marquee.compliance.middleware.JurisdictionMiddleware",
    "marquee.compliance.middleware.AgeGateMiddleware",
    "marquee.lib.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "marquee.urls"
ASGI_APPLICATION = "marquee.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "marquee" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "marquee.lib.context_processors.site",
            ],
            # |money and |when everywhere, without {% load %}.
            "builtins": ["marquee.lib.templatetags"],
        },
    }
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    # Connections are reused through a pool of at most DB_POOL_MAX_SIZE per
    # process (Django's psycopg pool): under ASGI each request's sync work runs
    # in a thread of its own, so connections kept per thread (DB_CONN_MAX_AGE)
    # pile up (66-88 from one uvicorn process in bench/tips_http until
    # PostgreSQL refused clients), and a new connection per request or chat
    # post cost the chat's post path a PostgreSQL start-up each time (its p99
    # stalls in bench/chat_fanout).  DB_POOL_MAX_SIZE=0 turns the pool off
    # (then DB_CONN_MAX_AGE applies, 0 by default: a connection per request).
    DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 10, minimum=0)
    DB_CONN_MAX_AGE = 0 if DB_POOL_MAX_SIZE else env_int("DB_CONN_MAX_AGE", 0, minimum=0)
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE)}
    if DB_POOL_MAX_SIZE and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": DB_POOL_MAX_SIZE,
            # How long a request waits for a free connection before it fails.
            "timeout": env_int("DB_POOL_TIMEOUT_SECONDS", 10, minimum=1),
        }
    if DATABASES["default"]["ENGINE"] not in {
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    }:
        raise ImproperlyConfiguredEnv("DATABASE_URL must point at PostgreSQL (or SQLite)")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "marquee.sqlite3",
            # WAL + a busy timeout let web, worker and media hooks share the file.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, rate limits, broker (chat: see CHAT_REDIS_*) -------------
REDIS_URL = env_str("REDIS_URL", "")
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "marquee")  # cache keys, chat keys and channels, recs buffer
# Parallel tests: pytest-xdist sets PYTEST_XDIST_WORKER (gw0, gw1, ...) in each
# worker and in the processes it starts.  pytest-django gives each worker its
# own test database (test_<name>_gwN); here each gets its own Redis database
# (the URL's number + N: tests flush it with cache.clear()) and key prefix
# (<prefix>_gwN: pub/sub channels ignore database numbers).
_test_worker = env_str("PYTEST_XDIST_WORKER", "")
if _test_worker:
    CACHE_KEY_PREFIX = f"{CACHE_KEY_PREFIX}_{_test_worker}"
    if REDIS_URL:
        _redis = urlsplit(REDIS_URL)
        _redis_db = int(_redis.path.strip("/") or 0) + int(_test_worker.removeprefix("gw"))
        REDIS_URL = _redis._replace(path=f"/{_redis_db}").geturl()
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "marquee"}}
    # A broker that needs no server: the worker and web share a folder.
    # A host, though unused, keeps kombu from warning on every connection.
    CELERY_BROKER_URL = "filesystem://localhost/"
    _broker_dir = VAR_DIR / "celery-broker"
    for _sub in ("in", "processed"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", TESTING)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# Workers log through LOGGING below (JSON lines with the request id), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# CELERY_BEAT_SCHEDULE is declared once, at the end (it needs every section's periods).

# --- Auth ------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if TESTING and not env_bool("MARQUEE_REAL_HASHER", False)
    else ["django.contrib.auth.hashers.PBKDF2PasswordHasher", "django.contrib.auth.hashers.Argon2PasswordHasher"]
)
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
MINIMUM_AGE = env_int("MINIMUM_AGE", 18, minimum=18)

ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env_choice("ACCOUNT_EMAIL_VERIFICATION", "mandatory", {"mandatory", "optional", "none"})
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_SIGNUP_FORM_CLASS = "marquee.accounts.forms.SignupExtraForm"
ACCOUNT_ADAPTER = "marquee.accounts.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
# Discretion (marquee.lib.mail): neutral subjects; see MAIL_* below.
ACCOUNT_EMAIL_SUBJECT_PREFIX = env_str("MAIL_SUBJECT_PREFIX", "[Marquee] ")
# A stolen session or 5-minute access token must not be enough to change the
# e-mail address, password or 2FA: ask for the password (or a second factor)
# again, and tell the old address about every change (web and headless).
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("ACCOUNT_REAUTHENTICATION_TIMEOUT", 300, minimum=30, maximum=3600)
ACCOUNT_EMAIL_NOTIFICATIONS = True
MFA_REAUTHENTICATION_REQUIRED = True
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    # Per address (any account), and per account AND address: the adapter adds
    # the address to allauth's per-account key, so strangers cannot lock the owner out.
    "login_failed": "5/5m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
}
# Second-factor codes count against "login_failed" too (allauth keys them per user).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_TOTP_ISSUER = "Marquee"
MFA_TOTP_TOLERANCE = 1

HEADLESS_ONLY = False
HEADLESS_CLIENTS = ("app", "browser")
HEADLESS_TOKEN_STRATEGY = "marquee.accounts.tokens.RotatingJWTTokenStrategy"
HEADLESS_JWT_PRIVATE_KEY = env_str("JWT_PRIVATE_KEY", "")
HEADLESS_JWT_ALGORITHM = "RS256" if HEADLESS_JWT_PRIVATE_KEY else "HS256"
HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = env_int("JWT_ACCESS_TOKEN_SECONDS", 300, minimum=30, maximum=3600)
HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN = env_int("JWT_REFRESH_TOKEN_SECONDS", 14 * 86400, minimum=300)
HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED = True
HEADLESS_JWT_ROTATE_REFRESH_TOKEN = True
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": f"{SITE_URL}/accounts/confirm-email/{{key}}/",
    "account_reset_password_from_key": f"{SITE_URL}/accounts/password/reset/key/{{key}}/",
    "account_signup": f"{SITE_URL}/accounts/signup/",
}
USERSESSIONS_TRACK_ACTIVITY = True
USERSESSIONS_ADAPTER = "marquee.accounts.adapters.UserSessionsAdapter"

# --- API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "marquee.lib.api.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "marquee.lib.api_errors.exception_handler",
    # API rate limits: per client IP for everyone and anonymous callers, per
    # user for accounts; keyed by the trusted-proxy client address, not raw headers.
    "DEFAULT_THROTTLE_CLASSES": [
        "marquee.compliance.throttles.AnonIPThrottle",
        "marquee.compliance.throttles.UserThrottle",
        "marquee.compliance.throttles.IPThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "ip": env_str("API_RATE_IP", "1200/min"),
        "anon": env_str("API_RATE_ANON", "120/min"),
        "user": env_str("API_RATE_USER", "600/min"),
        "tips": env_str("API_RATE_TIPS", "120/min"),
        "checkout": env_str("API_RATE_CHECKOUT", "30/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    # Choice sets that share a field name get names of their own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "PrivateShowKindEnum": "marquee.privates.models.PrivateShow.Kind",
        "PrivateShowStatusEnum": "marquee.privates.models.PrivateShow.Status",
        "ShowKindEnum": "marquee.performers.models.ShowKind",
        "SchedulableShowKindEnum": "marquee.schedule.forms.KIND_CHOICES",
    },
    "TITLE": "Marquee API",
    "DESCRIPTION": "Live rooms, shows, chat, payments and performer tools.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The one error shape on every operation; <id:…> path ids are bounded integers.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "marquee.lib.api_schema.document_error_responses",
    ],
    "PATH_CONVERTER_OVERRIDES": {"id": ID_SCHEMA},
}

# --- Requests, security ----------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
# Addresses (or CIDRs) of reverse proxies whose X-Forwarded-For we believe.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", [])
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None

# The Content Security Policy is set below, once the media origin is known.

# --- Static, media, mail ---------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "marquee" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-files/"
# Mail: printed to the console by default; set EMAIL_HOST to send over SMTP.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.locmem.EmailBackend"
    if TESTING
    else (
        "django.core.mail.backends.smtp.EmailBackend"
        if EMAIL_HOST
        else "marquee.lib.mail_console.EmailBackend"  # Django's console backend + codes and links in a banner
    ),
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Marquee <no-reply@marquee.test>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# JSON lines with the request id (web and worker) in production; text in DEBUG.
LOG_FORMAT = env_choice("LOG_FORMAT", "text" if DEBUG else "json", {"text", "json"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "marquee.lib.logs.RequestIDFilter"}},
    "formatters": {
        "json": {"()": "marquee.lib.logs.JSONFormatter"},
        "text": {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Platform rules ---------------------------------------------------------
AGE_GATE_ENABLED = env_bool("AGE_GATE_ENABLED", True)
MEDIA_HOOK_SECRET = env_str("MEDIA_HOOK_SECRET", "dev-media-hook-secret") if DEBUG else env_str("MEDIA_HOOK_SECRET")
PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
RTMP_PORT = env_int("RTMP_PORT", 1935, minimum=1, maximum=65535)
MEDIA_HTTP_PORT = env_int("MEDIA_HTTP_PORT", 8081, minimum=1, maximum=65535)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 86400, minimum=300)

# --- Geo and compliance -----------------------------------------------------
GEOIP_DATABASE = env_str("GEOIP_DATABASE", "")
# Where loopback/private addresses are treated as coming from ("" = unknown);
# lets a developer try the geo rules locally, e.g. GEO_LOCAL_LOCATION=US-TX.
GEO_LOCAL_LOCATION = env_str("GEO_LOCAL_LOCATION", "")
# "allow": unknown location is treated as unrestricted; "verify": as a
# jurisdiction that requires age verification (fail closed, production).
GEO_UNKNOWN_POLICY = env_choice("GEO_UNKNOWN_POLICY", "allow" if DEBUG else "verify", {"allow", "verify"})

# The home grid's free-text performer search reads this many characters.
SEARCH_QUERY_MAX_CHARS = 60

# --- Live video (shows) -------------------------------------------------------
# The project renders its own nginx(-rtmp) config into MEDIA_VAR_DIR and runs
# it in the foreground (`manage.py run_media`); nothing under /etc/nginx.
MEDIA_VAR_DIR = Path(env_str("MEDIA_VAR_DIR", str(VAR_DIR / "media")))
MEDIA_RTMP_BIND = env_str("MEDIA_RTMP_BIND", "127.0.0.1")
MEDIA_HTTP_BIND = env_str("MEDIA_HTTP_BIND", "127.0.0.1")
# What OBS is told ("rtmp://<host>:<port>/live") and where viewers fetch HLS.
MEDIA_RTMP_PUBLIC_URL = env_str("MEDIA_RTMP_PUBLIC_URL", f"rtmp://127.0.0.1:{RTMP_PORT}/live")
MEDIA_PUBLIC_URL = env_str("MEDIA_PUBLIC_URL", f"http://127.0.0.1:{MEDIA_HTTP_PORT}").rstrip("/")
# Where Django reaches nginx's rtmp_control (private-show recordings): the
# media HTTP server from this host; it answers loopback callers holding the hook secret only.
MEDIA_CONTROL_URL = env_str("MEDIA_CONTROL_URL", f"http://127.0.0.1:{MEDIA_HTTP_PORT}").rstrip("/")
# Where nginx calls the Django media hooks (an address of a web process).
MEDIA_HOOK_BASE_URL = env_str("MEDIA_HOOK_BASE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
MEDIA_HOOK_ALLOWED_IPS = env_networks("MEDIA_HOOK_ALLOWED_IPS", ["127.0.0.1/32", "::1/128"])
# on_update period: how soon a ban or a regenerated key cuts a live stream.
MEDIA_UPDATE_INTERVAL = env_int("MEDIA_UPDATE_INTERVAL", 30, minimum=1, maximum=600)
# Adaptive bitrate: the renditions every live stream is transcoded into,
# e.g. "source,480p,240p" (default) or "720p,480p,360p"; see shows.ladder.
try:
    MEDIA_LADDER = parse_ladder(env_str("MEDIA_LADDER", DEFAULT_LADDER))
except ValueError as exc:
    raise ImproperlyConfiguredEnv(str(exc)) from None
# HLS fragment length (ms). Transcoded rungs get a keyframe per fragment; the
# passed-through source is cut at its own keyframes (OBS: keyframe interval 1 s
# gives 1 s fragments). Shorter = lower latency, more requests per viewer.
MEDIA_HLS_FRAGMENT_MS = env_int("MEDIA_HLS_FRAGMENT_MS", 500, minimum=200, maximum=10000)
# What the master playlist announces for the passed-through source (OBS's usual 2.5 Mb/s + audio).
MEDIA_SOURCE_BANDWIDTH = env_int("MEDIA_SOURCE_BANDWIDTH", 3_000_000, minimum=100_000)
# Watchdog: a live show not heard from (no on_update) for this long is ended,
# checked every MEDIA_WATCHDOG_TICK_SECONDS; the media server died without
# publish_done.  Must leave room for at least one late update.
MEDIA_STALE_SECONDS = env_int("MEDIA_STALE_SECONDS", 2 * MEDIA_UPDATE_INTERVAL + 15, minimum=2)
if MEDIA_STALE_SECONDS <= MEDIA_UPDATE_INTERVAL:
    raise ImproperlyConfiguredEnv("MEDIA_STALE_SECONDS must be longer than MEDIA_UPDATE_INTERVAL.")
MEDIA_WATCHDOG_TICK_SECONDS = env_int("MEDIA_WATCHDOG_TICK_SECONDS", 5, minimum=1, maximum=600)
# Shared by Django (signs) and nginx secure_link (checks) playback URLs; by
# default derived from SECRET_KEY (one-way), set it to share it with edges.
MEDIA_PLAYBACK_SECRET = env_str(
    "MEDIA_PLAYBACK_SECRET", hmac.new(SECRET_KEY.encode(), b"marquee.media.playback", hashlib.sha256).hexdigest()
)
PLAYBACK_URL_TTL = env_int("PLAYBACK_URL_TTL", 300, minimum=30, maximum=86400)
# A scheduled show whose start is this close is the one that goes live.
SHOW_START_WINDOW_MINUTES = env_int("SHOW_START_WINDOW_MINUTES", 60, minimum=0)
LIVE_THUMBNAIL_INTERVAL = env_int("LIVE_THUMBNAIL_INTERVAL", 30, minimum=1)
DEMO_STREAM = env_bool("DEMO_STREAM", True)
FFMPEG_BINARY = env_str("FFMPEG_BINARY", "ffmpeg")
# Go live from the browser (WHIP): the relay publishes to this RTMP ingest
# (the same nginx-rtmp, its hooks and rules) with a credential valid this long.
MEDIA_WHIP_INGEST_URL = env_str("MEDIA_WHIP_INGEST_URL", f"rtmp://127.0.0.1:{RTMP_PORT}/live").rstrip("/")
INGEST_CREDENTIAL_SECONDS = env_int("INGEST_CREDENTIAL_SECONDS", 30, minimum=5, maximum=600)
# Browser publishes (peers + ffmpeg relays) one web process carries at once.
MEDIA_WHIP_MAX_SESSIONS = env_int("MEDIA_WHIP_MAX_SESSIONS", 8, minimum=0)
# Private shows over WebRTC (WHEP out, cam2cam): shows not sent by WHIP are
# decoded from this RTMP application (nginx-rtmp allows play from loopback).
MEDIA_WEBRTC_SOURCE_URL = env_str("MEDIA_WEBRTC_SOURCE_URL", f"rtmp://127.0.0.1:{RTMP_PORT}/live").rstrip("/")
# Peers (viewers, performer previews, cameras) one web process carries at once.
MEDIA_WEBRTC_MAX_PEERS = env_int("MEDIA_WEBRTC_MAX_PEERS", 16, minimum=0)
# Each peer re-asks access this often (an end or ban in another process).
MEDIA_WEBRTC_RECHECK_SECONDS = env_int("MEDIA_WEBRTC_RECHECK_SECONDS", 5, minimum=1, maximum=300)
NGINX_BINARY = env_str("NGINX_BINARY", "nginx")


# --- Content Security Policy ---------------------------------------------------
# No inline code anywhere.  Production pages may fetch and play media only from
# the site and the media origin (hls.js loads playlists and segments with XHR)
# and open WebSockets only to the site; DEBUG keeps any origin open for local
# media servers on changing ports.
def _origin(url: str, scheme: str | None = None) -> str:
    parts = urlsplit(url)
    return f"{scheme or parts.scheme}://{parts.netloc}"


_SITE_ORIGIN = _origin(SITE_URL)
_MEDIA_ORIGIN = _origin(MEDIA_PUBLIC_URL)
# Chat sockets go to the site itself (ws:// for http://, wss:// for https://).
WEBSOCKET_PUBLIC_URL = env_str(
    "WEBSOCKET_PUBLIC_URL", _origin(SITE_URL, "wss" if SITE_URL.startswith("https:") else "ws")
)
_WS_ORIGIN = _origin(WEBSOCKET_PUBLIC_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:", _MEDIA_ORIGIN] + (["*"] if DEBUG else []),
        "connect-src": ["'self'", _SITE_ORIGIN, _MEDIA_ORIGIN, _WS_ORIGIN] + (["ws:", "wss:", "*"] if DEBUG else []),
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Money (billing, ledger) ----------------------------------------------------
# Only the sandbox gateway is on by default (and only in DEBUG: its Pay button
# is free money); the others switch on when their secrets are set.  The
# sandbox secret signs the events its hosted page sends.
SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", DEBUG)
# The provider the paywall / buy buttons use.
PAYMENT_PROVIDER = env_choice("PAYMENT_PROVIDER", "sandbox", {"sandbox", "stripe", "ccbill", "btcpay", "paypal"})
SANDBOX_WEBHOOK_SECRET = (
    env_str("SANDBOX_WEBHOOK_SECRET", "dev-sandbox-webhook-secret") if DEBUG else env_str("SANDBOX_WEBHOOK_SECRET", "")
)
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
CCBILL_ACCOUNT = env_str("CCBILL_ACCOUNT", "")
CCBILL_SUBACCOUNT = env_str("CCBILL_SUBACCOUNT", "")
CCBILL_FLEXFORM_ID = env_str("CCBILL_FLEXFORM_ID", "")
CCBILL_SALT = env_str("CCBILL_SALT", "")
CCBILL_API_URL = env_str("CCBILL_API_URL", "https://api.ccbill.com")
CCBILL_API_TOKEN = env_str("CCBILL_API_TOKEN", "")
# CCBill webhooks carry no signature: only these source networks are accepted.
CCBILL_WEBHOOK_ALLOWED_NETWORKS = env_networks("CCBILL_WEBHOOK_ALLOWED_NETWORKS", ["64.38.212.0/24", "64.38.215.0/24"])
BTCPAY_URL = env_str("BTCPAY_URL", "")
BTCPAY_STORE_ID = env_str("BTCPAY_STORE_ID", "")
BTCPAY_API_KEY = env_str("BTCPAY_API_KEY", "")
BTCPAY_WEBHOOK_SECRET = env_str("BTCPAY_WEBHOOK_SECRET", "")
# PayPal's acceptable-use policy forbids sexually oriented content: the
# gateway is for sites whose shows PayPal allows, and stays off unless the
# operator sets PAYPAL_ENABLED=1 deliberately (with the credentials).
PAYPAL_ENABLED = env_bool("PAYPAL_ENABLED", False)
PAYPAL_CLIENT_ID = env_str("PAYPAL_CLIENT_ID", "")
PAYPAL_CLIENT_SECRET = env_str("PAYPAL_CLIENT_SECRET", "")
PAYPAL_WEBHOOK_ID = env_str("PAYPAL_WEBHOOK_ID", "")
# https://api-m.sandbox.paypal.com for PayPal's sandbox.
PAYPAL_API_URL = env_str("PAYPAL_API_URL", "https://api-m.paypal.com")
# Webhook signing certificates are fetched only over https from these hosts.
PAYPAL_CERT_HOSTS = env_list(
    "PAYPAL_CERT_HOSTS", ["api.paypal.com", "api-m.paypal.com", "api.sandbox.paypal.com", "api-m.sandbox.paypal.com"]
)
PAYPAL_BRAND_NAME = env_str("PAYPAL_BRAND_NAME", "Marquee")
# Webhook signatures older than this are refused (replay window).
WEBHOOK_TOLERANCE_SECONDS = env_int("WEBHOOK_TOLERANCE_SECONDS", 300, minimum=30)
# Performer share of every sale and tip, in percent (the rest is the platform fee).
PERFORMER_SHARE_PERCENT = env_int("PERFORMER_SHARE_PERCENT", 60, minimum=0, maximum=100)
# What one token is worth (cents) when tips are split into performer earnings.
TOKEN_VALUE_CENTS = env_int("TOKEN_VALUE_CENTS", 10, minimum=1)
# Hot platform accounts (fees, token float/supply) are split into this many rows.
LEDGER_PLATFORM_SHARDS = env_int("LEDGER_PLATFORM_SHARDS", 16, minimum=1)
EARNINGS_HOLD_DAYS = env_int("EARNINGS_HOLD_DAYS", 7, minimum=0)
PAYOUT_MINIMUM_CENTS = env_int("PAYOUT_MINIMUM_CENTS", 5000, minimum=0)
# The most a performer may set as their own payout minimum (payout settings).
PAYOUT_MINIMUM_MAX_CENTS = env_int("PAYOUT_MINIMUM_MAX_CENTS", 1_000_000, minimum=1)
# How staff can pay performers (the manual rail pays out of band by one of these).
PAYOUT_METHODS = env_list("PAYOUT_METHODS", ["bank_transfer", "paxum", "check"])
SUBSCRIPTION_GRACE_DAYS = env_int("SUBSCRIPTION_GRACE_DAYS", 3, minimum=0)
SUBSCRIPTION_PERIOD_DAYS = env_int("SUBSCRIPTION_PERIOD_DAYS", 30, minimum=1)
PRICE_MIN_CENTS = env_int("PRICE_MIN_CENTS", 199, minimum=1)
PRICE_MAX_CENTS = env_int("PRICE_MAX_CENTS", 19999, minimum=1)
TIP_MAX_TOKENS = env_int("TIP_MAX_TOKENS", 100000, minimum=1)
# A client's idempotency key (header or form); scoped per user it fits Transfer.idempotency_key.
IDEMPOTENCY_KEY_MAX_CHARS = 100
# Token packs: id -> (tokens, price in cents).
TOKEN_PACKS = {
    "small": {"tokens": 100, "price_cents": 999, "label": "100 tokens"},
    "medium": {"tokens": 550, "price_cents": 4999, "label": "550 tokens"},
    "large": {"tokens": 1200, "price_cents": 9999, "label": "1,200 tokens"},
}

# --- Web process ------------------------------------------------------------------
# A full garbage collection waits for this many younger ones (CPython: 10):
# each one holds the event loop, and every chat room's fan-out, for as long as
# it takes to walk every object of the process (marquee/lib/server_process.py).
WEB_GC_FULL_COLLECTION_AFTER = env_int("WEB_GC_FULL_COLLECTION_AFTER", 1000, minimum=1)

# --- Chat -----------------------------------------------------------------------
# Fan-out: events of a room are batched per window into one frame; a client
# whose unsent frames exceed the buffer is disconnected (it resumes on reconnect).
CHAT_BATCH_WINDOW_MS = env_int("CHAT_BATCH_WINDOW_MS", 100, minimum=0, maximum=1000)
CHAT_CLIENT_BUFFER_FRAMES = env_int("CHAT_CLIENT_BUFFER_FRAMES", 200, minimum=4)
CHAT_HISTORY_EVENTS = env_int("CHAT_HISTORY_EVENTS", 1000, minimum=50)  # kept per room for resume
CHAT_JOIN_MESSAGES = 50
CHAT_AUTH_TIMEOUT_SECONDS = env_int("CHAT_AUTH_TIMEOUT_SECONDS", 5, minimum=1)
# The largest client frame; the server reads no more (Procfile: uvicorn --ws-max-size).
CHAT_MAX_FRAME_BYTES = env_int("CHAT_MAX_FRAME_BYTES", 4096, minimum=512)
# Frames one socket may send: a token bucket refilled at CHAT_FRAMES_PER_SECOND
# holding up to CHAT_FRAME_BURST; the performer and moderators get
# CHAT_MODERATOR_FRAME_FACTOR times both (the pipeline does not rate-limit them).
CHAT_FRAMES_PER_SECOND = env_int("CHAT_FRAMES_PER_SECOND", 10, minimum=1)
CHAT_FRAME_BURST = env_int("CHAT_FRAME_BURST", 20, minimum=1)
CHAT_MODERATOR_FRAME_FACTOR = 10
CHAT_STORE_FLUSH_MS = env_int("CHAT_STORE_FLUSH_MS", 500, minimum=10)
CHAT_PRESENCE_SECONDS = env_int("CHAT_PRESENCE_SECONDS", 5, minimum=1)
# Trust (issue 11): every logged-in socket re-checks that its session still
# logs its user in, and its rights in the room, this often (revocations and
# rights changes also reach it at once as events).
CHAT_SESSION_RECHECK_SECONDS = env_int("CHAT_SESSION_RECHECK_SECONDS", 60, minimum=1, maximum=3600)
# Sockets one IP address, one user and one session may hold at once (counted
# across processes on Redis; a dead process's places lapse after the lease).
CHAT_MAX_SOCKETS_PER_IP = env_int("CHAT_MAX_SOCKETS_PER_IP", 50, minimum=1)
CHAT_MAX_SOCKETS_PER_USER = env_int("CHAT_MAX_SOCKETS_PER_USER", 10, minimum=1)
CHAT_MAX_SOCKETS_PER_SESSION = env_int("CHAT_MAX_SOCKETS_PER_SESSION", 10, minimum=1)
CHAT_SOCKET_LEASE_SECONDS = env_int("CHAT_SOCKET_LEASE_SECONDS", 60, minimum=15)
# redis-py 8: an explicit socket_timeout for commands (the publisher) and enough
# connections for mass reconnects; the subscriber blocks without a timeout
# and relies on health checks (channels_redis#422).
CHAT_REDIS_SOCKET_TIMEOUT = env_int("CHAT_REDIS_SOCKET_TIMEOUT", 5, minimum=1)
CHAT_REDIS_MAX_CONNECTIONS = env_int("CHAT_REDIS_MAX_CONNECTIONS", 1000, minimum=10)
# Platform moderation defaults; a room overrides them in its ChatRoomRules row.
CHAT_MODERATION = {
    "max_length": env_int("CHAT_MAX_LENGTH", 500, minimum=1),
    "rate_limit_messages": env_int("CHAT_RATE_LIMIT_MESSAGES", 5, minimum=1),
    "rate_limit_seconds": env_int("CHAT_RATE_LIMIT_SECONDS", 5, minimum=1),
    # Each further offence within an hour times out for the next step.
    "rate_limit_timeouts": [30, 120, 600, 3600],
    "auto_slow_mode_messages_per_10s": env_int("CHAT_AUTO_SLOW_MODE_RATE", 100, minimum=1),
    "auto_slow_mode_seconds": 5,
    "auto_slow_mode_duration": 60,
    "min_account_age_minutes": env_int("CHAT_MIN_ACCOUNT_AGE_MINUTES", 10, minimum=0),
    "block_links": True,
    "block_contacts": True,
    "words": env_list("CHAT_BLOCKED_WORDS", []),
    "regex_rules": [],
    "classifier_hold_threshold": 0.80,
    "classifier_block_threshold": 0.97,
}
CHAT_CHANNEL_PREFIX = CACHE_KEY_PREFIX + ":chat"  # Redis keys and pub/sub channels
CHAT_CLASSIFIER = env_str("CHAT_CLASSIFIER", "marquee.chat.classifier.ProfanityCheckClassifier")

# --- Performer dashboard (content, schedule) ------------------------------------
# Recurring schedules are materialized as shows this many days ahead.
SCHEDULE_HORIZON_DAYS = env_int("SCHEDULE_HORIZON_DAYS", 56, minimum=7, maximum=366)
SHOW_REMINDER_MINUTES = env_int("SHOW_REMINDER_MINUTES", 10, minimum=1, maximum=120)
# Ticket shows are escrow: a performer not live this many minutes after the
# start, or a show ending before this share of its announced length, refunds
# every ticket (schedule.escrow).
TICKET_SHOW_NO_SHOW_MINUTES = env_int("TICKET_SHOW_NO_SHOW_MINUTES", 15, minimum=1, maximum=24 * 60)
TICKET_SHOW_MIN_SHARE_PERCENT = env_int("TICKET_SHOW_MIN_SHARE_PERCENT", 50, minimum=0, maximum=100)
# Prices performers set are checked against the money section's PRICE_MIN_CENTS/PRICE_MAX_CENTS.
TIP_MENU_MAX_TOKENS = env_int("TIP_MENU_MAX_TOKENS", 100_000, minimum=1)
CONTENT_SET_MAX_TOKENS = env_int("CONTENT_SET_MAX_TOKENS", 100_000, minimum=1)
# Private uploads: outside MEDIA_ROOT, served only through signed URLs.
CONTENT_ROOT = Path(env_str("CONTENT_ROOT", str(VAR_DIR / "content")))
CONTENT_MAX_IMAGE_BYTES = env_int("CONTENT_MAX_IMAGE_BYTES", 20 * 1024 * 1024, minimum=1024)
CONTENT_MAX_VIDEO_BYTES = env_int("CONTENT_MAX_VIDEO_BYTES", 500 * 1024 * 1024, minimum=1024)
CONTENT_MAX_IMAGE_PIXELS = env_int("CONTENT_MAX_IMAGE_PIXELS", 50_000_000, minimum=10_000)
CONTENT_URL_MAX_AGE = env_int("CONTENT_URL_MAX_AGE", 600, minimum=30)
# Earnings of a closed (performer-local) day are summarized once the day has been over this long.
EARNINGS_ROLLUP_SETTLE_MINUTES = env_int("EARNINGS_ROLLUP_SETTLE_MINUTES", 60, minimum=1)

# --- Private, spy and group shows (marquee.privates) ---------------------------
# One billing period ("minute"): rates are tokens per period; tests shorten it.
PRIVATE_BILLING_SECONDS = env_int("PRIVATE_BILLING_SECONDS", 60, minimum=1)
PRIVATE_REQUEST_EXPIRY_SECONDS = env_int("PRIVATE_REQUEST_EXPIRY_SECONDS", 120, minimum=5)
# The stream may drop this long before the show ends (charged only up to the drop).
PRIVATE_STREAM_DROP_GRACE_SECONDS = env_int("PRIVATE_STREAM_DROP_GRACE_SECONDS", 60, minimum=0)
# Platform limits for room settings (the performer's share is PERFORMER_SHARE_PERCENT).
PRIVATE_RATE_MIN_TOKENS = env_int("PRIVATE_RATE_MIN_TOKENS", 1, minimum=1)
PRIVATE_RATE_MAX_TOKENS = env_int("PRIVATE_RATE_MAX_TOKENS", 1000, minimum=1)
PRIVATE_MINIMUM_MINUTES_MAX = env_int("PRIVATE_MINIMUM_MINUTES_MAX", 30, minimum=1)
GROUP_SHOW_MAX_GOAL = env_int("GROUP_SHOW_MAX_GOAL", 100, minimum=2)
GROUP_SHOW_MAX_WINDOW_MINUTES = env_int("GROUP_SHOW_MAX_WINDOW_MINUTES", 60, minimum=1)
# The worker bills due periods this often (well under a period), and sweeps holds.
PRIVATE_TICK_SECONDS = env_int("PRIVATE_TICK_SECONDS", 5, minimum=1)
# Billing passes per tick, one per worker process that should share the due set
# (room by room, SKIP LOCKED): raise with the number of worker processes.
PRIVATE_TICK_WORKERS = env_int("PRIVATE_TICK_WORKERS", 1, minimum=1, maximum=64)
# Recordings of private shows (when the room allows them) are deleted this long after the show.
PRIVATE_RECORDING_RETENTION_DAYS = env_int("PRIVATE_RECORDING_RETENTION_DAYS", 30, minimum=1, maximum=3650)

# --- Recommendations ------------------------------------------------------------
# Model artifacts (versioned .npz files + a CURRENT pointer swapped atomically).
# (Tests get their own folder, never a developer's trained model.)
RECS_DIR = Path(env_str("RECS_DIR", str(VAR_DIR / ("recommender-test" if TESTING else "recommender"))))
RECS_FACTORS = env_int("RECS_FACTORS", 32, minimum=2, maximum=512)
RECS_ITERATIONS = env_int("RECS_ITERATIONS", 10, minimum=1, maximum=100)
# implicit's own thread pool (0 = one per core); BLAS is held to 1 thread.
RECS_TRAIN_THREADS = env_int("RECS_TRAIN_THREADS", 0, minimum=0, maximum=256)
RECS_TRAIN_MINUTES = env_int("RECS_TRAIN_MINUTES", 60, minimum=1)
RECS_KEEP_VERSIONS = env_int("RECS_KEEP_VERSIONS", 3, minimum=1)
# Per-viewer top-K lists in the cache; keys carry the model version.
RECS_TOP_K = env_int("RECS_TOP_K", 100, minimum=10, maximum=1000)
RECS_CACHE_SECONDS = env_int("RECS_CACHE_SECONDS", 900, minimum=1)
RECS_MAX_LIMIT = 100
RECS_LIVE_BOOST = 0.5
# Interaction buffer: Redis list drained by the worker, or (no Redis) an
# in-process batch handed to the worker when full or old.
RECS_BUFFER_KEY = CACHE_KEY_PREFIX + ":recs:interactions"
RECS_FLUSH_BATCH = env_int("RECS_FLUSH_BATCH", 200, minimum=1)
RECS_FLUSH_SECONDS = env_int("RECS_FLUSH_SECONDS", 10, minimum=1)

# --- Compliance and hardening ---------------------------------------------------
# Parallel audit hash chains (PostgreSQL): appends hold one chain's lock to
# commit; more chains = more concurrent writers (docs/benchmarks.md).
AUDIT_CHAINS = env_int("AUDIT_CHAINS", 8, minimum=1, maximum=256)
# Free text copied into an audit event's details (paths, admin change messages);
# columns are cut to their own max_length (marquee.lib.fields).
AUDIT_DETAIL_MAX_CHARS = 500
# Jurisdiction rules are read from the database and cached this long.
JURISDICTION_CACHE_SECONDS = env_int("JURISDICTION_CACHE_SECONDS", 300, minimum=0)
# A geo block is audit-logged at most once per client IP per this many seconds.
GEO_BLOCK_AUDIT_SECONDS = env_int("GEO_BLOCK_AUDIT_SECONDS", 3600, minimum=1)
# Viewer age verification: sandbox (staff review uploads), veriff or persona.
AGE_VERIFICATION_PROVIDER = env_choice("AGE_VERIFICATION_PROVIDER", "sandbox", {"sandbox", "veriff", "persona"})
AGE_VERIFICATION_VALID_DAYS = env_int("AGE_VERIFICATION_VALID_DAYS", 365, minimum=1)
# Every buyer is age-verified before the first purchase, wherever they are.
AGE_VERIFICATION_BEFORE_PURCHASE = env_bool("AGE_VERIFICATION_BEFORE_PURCHASE", True)
VERIFF_API_KEY = env_str("VERIFF_API_KEY", "")
VERIFF_SHARED_SECRET = env_str("VERIFF_SHARED_SECRET", "")
VERIFF_BASE_URL = env_str("VERIFF_BASE_URL", "https://stationapi.veriff.com")
PERSONA_API_KEY = env_str("PERSONA_API_KEY", "")
PERSONA_WEBHOOK_SECRET = env_str("PERSONA_WEBHOOK_SECRET", "")
PERSONA_TEMPLATE_ID = env_str("PERSONA_TEMPLATE_ID", "")
PERSONA_BASE_URL = env_str("PERSONA_BASE_URL", "https://withpersona.com")
# Signed webhooks older than this are refused (replay window).
VERIFICATION_WEBHOOK_TOLERANCE_SECONDS = env_int("VERIFICATION_WEBHOOK_TOLERANCE_SECONDS", 300, minimum=30)
# 2257 records: ID images are encrypted with this Fernet key (comma-separated
# list to rotate: the first encrypts, all decrypt).  Only DEBUG derives a
# development key from SECRET_KEY; production must set it.
RECORDS_ENCRYPTION_KEY = env_list("RECORDS_ENCRYPTION_KEY", [])
if not RECORDS_ENCRYPTION_KEY:
    if not DEBUG:
        raise ImproperlyConfiguredEnv("RECORDS_ENCRYPTION_KEY must be set when DEBUG=0 (Fernet.generate_key())")
    RECORDS_ENCRYPTION_KEY = [
        base64.urlsafe_b64encode(hashlib.sha256(b"marquee-records-dev:" + SECRET_KEY.encode()).digest()).decode()
    ]
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private")))
RECORDS_MAX_UPLOAD_BYTES = env_int("RECORDS_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, minimum=1024)
# Shown on the 2257 statement page.
RECORDS_CUSTODIAN = env_str("RECORDS_CUSTODIAN", "Custodian of Records, Marquee (set RECORDS_CUSTODIAN)")
# Request bodies are capped before Django reads (and spools) them
# (marquee.lib.body_limit, in front of the ASGI app): the upload paths take
# what they accept plus room for the form around it, every other path
# MAX_REQUEST_BODY_BYTES.  A reverse proxy should use the same figures
# (docs/operations-compliance.md).
UPLOAD_FORM_OVERHEAD_BYTES = 1024 * 1024
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", DATA_UPLOAD_MAX_MEMORY_SIZE + 64 * 1024, minimum=1024)
REQUEST_BODY_LIMITS = [
    (r"^/(api/v1/)?dashboard/content/sets/\d+/(upload|items)/$", CONTENT_MAX_VIDEO_BYTES + UPLOAD_FORM_OVERHEAD_BYTES),
    # ID photo (age) or ID front + back + selfie (2257 record).
    (r"^/(verify-age|performer-verification)/$", 3 * RECORDS_MAX_UPLOAD_BYTES + UPLOAD_FORM_OVERHEAD_BYTES),
    # Profile pictures and other dashboard images.
    (r"^/(api/v1/)?dashboard/", CONTENT_MAX_IMAGE_BYTES + UPLOAD_FORM_OVERHEAD_BYTES),
]
SILENCED_SYSTEM_CHECKS = ["models.W040"]  # SQLite ignores covering-index columns; PostgreSQL uses them

# --- Operations: /metrics and integrity checks --------------------------------
# /metrics answers a bearer token, or a direct peer in these networks (never
# one relayed by TRUSTED_PROXIES); anyone else gets a 404.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = env_networks("METRICS_ALLOWED_IPS", ["127.0.0.1/32", "::1/128"])
INTEGRITY_CHECK_SECONDS = env_int("INTEGRITY_CHECK_SECONDS", 3600, minimum=60)
INTEGRITY_CHECK_DETAIL_MAX_CHARS = 4000  # a failed check's output kept for /metrics readers

# --- Go-live notifications (marquee.schedule.golive) ------------------------------------
# Web Push: the VAPID private key (base64url raw or DER, e.g. from `vapid --gen`;
# WEBPUSH_VAPID_PRIVATE_KEY_FILE works too).  Empty: no push, in-app and e-mail only.
WEBPUSH_VAPID_PRIVATE_KEY = env_str("WEBPUSH_VAPID_PRIVATE_KEY", "")
WEBPUSH_VAPID_SUBJECT = env_str("WEBPUSH_VAPID_SUBJECT", "mailto:admin@localhost")
WEBPUSH_TIMEOUT_SECONDS = env_int("WEBPUSH_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
# The worker POSTs to subscription endpoints: only these push services (and
# their subdomains), over https, so a subscription cannot aim it inward.
WEBPUSH_ENDPOINT_HOSTS = env_list(
    "WEBPUSH_ENDPOINT_HOSTS",
    ["fcm.googleapis.com", "push.services.mozilla.com", "notify.windows.com", "push.apple.com"],
)
WEBPUSH_ENDPOINT_SCHEMES = ["https"]

# --- Privacy and data rights (marquee.privacy, docs/privacy.md) --------------------
# A closed account can be reopened for this many days; then the worker makes it final.
PRIVACY_CLOSURE_GRACE_DAYS = env_int("PRIVACY_CLOSURE_GRACE_DAYS", 14, minimum=0, maximum=90)
# Reopening by yourself: a code mailed to the old address (marquee.privacy.reopen).
PRIVACY_REOPEN_CODE_MINUTES = env_int("PRIVACY_REOPEN_CODE_MINUTES", 15, minimum=1, maximum=60)
PRIVACY_REOPEN_CODE_ATTEMPTS = env_int("PRIVACY_REOPEN_CODE_ATTEMPTS", 5, minimum=1, maximum=10)
# Retention (days) per kind of personal data; the daily task enforces them and
# docs/privacy.md is rendered from them (`manage.py privacy_doc`).
PRIVACY_SESSION_IP_DAYS = env_int("PRIVACY_SESSION_IP_DAYS", 90, minimum=1)
PRIVACY_AUDIT_IP_DAYS = env_int("PRIVACY_AUDIT_IP_DAYS", 180, minimum=1)
PRIVACY_CHAT_MESSAGE_DAYS = env_int("PRIVACY_CHAT_MESSAGE_DAYS", 180, minimum=1)
PRIVACY_HELD_MESSAGE_DAYS = env_int("PRIVACY_HELD_MESSAGE_DAYS", 30, minimum=1)
PRIVACY_WATCH_HISTORY_DAYS = env_int("PRIVACY_WATCH_HISTORY_DAYS", 365, minimum=1)
PRIVACY_NOTIFICATION_DAYS = env_int("PRIVACY_NOTIFICATION_DAYS", 90, minimum=1)
PRIVACY_RECEIPT_DETAIL_DAYS = env_int("PRIVACY_RECEIPT_DETAIL_DAYS", 400, minimum=30)
PRIVACY_EXPORT_LINK_HOURS = env_int("PRIVACY_EXPORT_LINK_HOURS", 48, minimum=1, maximum=24 * 14)
# Discretion (marquee.lib.mail): neutral subjects and sender name; subjects name
# performers or purchases only if MAIL_DISCREET is turned off.
MAIL_SUBJECT_PREFIX = ACCOUNT_EMAIL_SUBJECT_PREFIX
MAIL_SENDER_NAME = env_str("MAIL_SENDER_NAME", "")
MAIL_DISCREET = env_bool("MAIL_DISCREET", True)
# Billing descriptor sent to each gateway that takes one per payment (Stripe's
# statement suffix, PayPal's soft descriptor; CCBill and BTCPay set it on the
# merchant account).  Card networks allow 22 characters.
BILLING_DESCRIPTOR = env_str("BILLING_DESCRIPTOR", "MQ ONLINE SVCS")
if not 0 < len(BILLING_DESCRIPTOR) <= 22 or any(c in BILLING_DESCRIPTOR for c in "<>\\'\"*"):
    raise ImproperlyConfiguredEnv("BILLING_DESCRIPTOR must be 1-22 characters without < > \\ ' \" *")

# --- Worker schedule (celery beat): every periodic task, once -------------------
CELERY_BEAT_SCHEDULE = {
    "schedule-settle-ticket-shows": {"task": "marquee.schedule.tasks.settle_ticket_shows", "schedule": 60.0},
    "shows-media-watchdog": {
        "task": "marquee.shows.tasks.media_watchdog",
        "schedule": float(MEDIA_WATCHDOG_TICK_SECONDS),
    },
    "billing-release-earnings": {"task": "marquee.billing.tasks.release_due_earnings", "schedule": 3600.0},
    "billing-scheduled-payouts": {"task": "marquee.billing.tasks.request_scheduled_payouts", "schedule": 3600.0},
    "earnings-rollups": {"task": "marquee.earnings.tasks.refresh_rollups", "schedule": 3600.0},
    "schedule-send-reminders": {"task": "marquee.schedule.tasks.send_show_reminders", "schedule": 60.0},
    "schedule-extend-schedules": {"task": "marquee.schedule.tasks.extend_schedules", "schedule": 6 * 3600.0},
    # A tick still queued when the next is due is dropped (expires): a busy worker
    # never builds a queue of stale ticks; the next one bills whatever is due.
    "privates-tick": {
        "task": "marquee.privates.tasks.tick",
        "schedule": float(PRIVATE_TICK_SECONDS),
        "options": {"expires": float(PRIVATE_TICK_SECONDS)},
    },
    "privates-sweep-holds": {"task": "marquee.privates.tasks.sweep_holds", "schedule": 60.0},
    "privates-delete-expired-recordings": {
        "task": "marquee.privates.tasks.delete_expired_recordings",
        "schedule": 3600.0,
    },
    "recommendations-flush": {
        "task": "marquee.recommendations.tasks.flush_interactions",
        "schedule": float(RECS_FLUSH_SECONDS),
    },
    "recommendations-train": {
        "task": "marquee.recommendations.tasks.train_recommender",
        "schedule": RECS_TRAIN_MINUTES * 60.0,
    },
    "ops-integrity-checks": {"task": "marquee.ops.tasks.integrity_checks", "schedule": float(INTEGRITY_CHECK_SECONDS)},
    "privacy-finalize-closures": {"task": "marquee.privacy.tasks.finalize_closures", "schedule": 3600.0},
    "privacy-retention": {"task": "marquee.privacy.tasks.enforce_retention", "schedule": 24 * 3600.0},
}
