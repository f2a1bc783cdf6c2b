"""Project settings, read from the environment in this one place.

Development: DJANGO_DEBUG=1 gives safe local defaults. Production refuses to start
without DJANGO_SECRET_KEY. See the README's configuration table for every variable.
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from site_config.media_storage import s3_media_storage

BASE_DIR = Path(__file__).resolve().parent.parent
# Runtime files (the SQLite database, the shared file cache, a generated local key).
VAR_DIR = Path(os.environ.get("DJANGO_VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    value = os.environ.get(name, default)
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip()
if not SECRET_KEY:
    if not DEBUG:
        # One clear line instead of a traceback: operators see exactly what to fix.
        sys.exit(
            "Refusing to start: DJANGO_SECRET_KEY is not set (set it, or set DJANGO_DEBUG=1 for local development)."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")

SITE_NAME = os.environ.get("SITE_NAME", "Well Informed")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "taggit",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "django_tasks",
    "django_tasks_db",
    "site_config",
    "articles",
    "protocols",
]

MIDDLEWARE = [
    # Outermost: its response phase sees the final headers (CSP, security headers) it stores
    # with a page; the read path is the WSGI wrapper in site_config/wsgi.py.
    "site_config.page_cache.PageCacheMiddleware",
    # Inside the page cache, so cached pages keep these headers; outside everything else,
    # so the 503 page and static files get them too.
    "site_config.middleware.SecurityHeadersMiddleware",
    # A database outage becomes the static 503 page instead of a hang or a traceback.
    "site_config.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Staff who have not passed the second factor reach only the two-factor pages.
    "site_config.two_factor.middleware.StaffTwoFactorMiddleware",
    "site_config.middleware.AdminQueryStringGuardMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "site_config.urls"
WSGI_APPLICATION = "site_config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "site_config.context_processors.site",
                "protocols.context_processors.banner",
            ],
        },
    },
    {
        # Hot blocks of reader pages only: site_config/jinja_env.py says which and why.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "site_config.jinja_env.environment"},
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if not DATABASE_URL:
    # A fresh clone has no var/ yet (it is not in git): SQLite cannot create its file without it.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=600,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside a writer; IMMEDIATE takes the write lock when a
    # transaction starts, so two workers never deadlock upgrading a read lock
    # ("database is locked"); the timeout makes a writer wait instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": None}
DATABASE_IS_POSTGRES = DATABASES["default"]["ENGINE"] in {
    "django.db.backends.postgresql",
    "django.contrib.gis.db.backends.postgis",
}
if DATABASE_IS_POSTGRES:
    INSTALLED_APPS.append("django.contrib.postgres")
    # An unreachable server fails a request after a few seconds instead of hanging it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "site"),
            "TIMEOUT": 3600,
        }
    }
else:
    # A file cache on local disk is shared by every gunicorn worker of this machine,
    # unlike the per-process local-memory cache.
    CACHES = {
        "default": {
            "BACKEND": "site_config.filebased.SharedFileCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "TIMEOUT": 3600,
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }

# --- Auth, i18n, static ---------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Media: the image library's originals, renditions and social cards -------------------
# Every stored name carries a content hash, so every file is served as immutable.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"
IMAGE_MAX_UPLOAD_MB = int(os.environ.get("IMAGE_MAX_UPLOAD_MB", "10"))
IMAGE_MAX_PIXELS = int(os.environ.get("IMAGE_MAX_PIXELS", "40000000"))
# A file over IMAGE_MAX_UPLOAD_MB is counted, not stored (not even in a temporary file).
FILE_UPLOAD_HANDLERS = [
    "articles.images.upload_handlers.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]


_s3_storage, MEDIA_ORIGIN = s3_media_storage(os.environ, cache_control=MEDIA_CACHE_CONTROL)
MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET", "").strip()
if _s3_storage:
    STORAGES["default"] = _s3_storage
# Tests and `runserver` find static files without a manual collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

ADMIN_URL = os.environ.get("DJANGO_ADMIN_URL", "admin/").strip("/") + "/"
LOGIN_URL = "admin:login"

# --- HTTPS and security headers ---------------------------------------------------------
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if HTTPS or env_bool("DJANGO_TRUST_PROXY_SSL_HEADER", False):
    # The proxy in front terminates TLS and says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, read with one plain statement (site_config/sessions.py).
SESSION_ENGINE = "site_config.sessions"
# No page script reads the CSRF token (forms carry it in a hidden field): keep it from any.
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# Client addresses (rate limits): REMOTE_ADDR unless the operator names the header a
# trusted proxy sets, e.g. DJANGO_CLIENT_IP_HEADER=HTTP_X_FORWARDED_FOR.
CLIENT_IP_HEADER = os.environ.get("DJANGO_CLIENT_IP_HEADER", "").strip()

from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        # Images from S3-compatible storage live on another origin.
        "img-src": [SELF, "data:", *([MEDIA_ORIGIN] if MEDIA_ORIGIN else [])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        # Violations are reported to the site itself (site_config.views.csp_report), which
        # logs them: report-to for browsers with the Reporting API, report-uri for the rest.
        "report-uri": ["/csp-report/"],
        "report-to": "csp-endpoint",
    }
}
CSP_REPORT_ENDPOINT = ("csp-endpoint", "/csp-report/")
# Reports accepted per client address (the signup limit's shared counter); larger bodies get 413.
CSP_REPORT_RATE_LIMIT = os.environ.get("CSP_REPORT_RATE_LIMIT", "30/1m").strip()
CSP_REPORT_MAX_BYTES = 16 * 1024

# Browser features no page of the site uses, switched off for every page and anything it embeds.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}
# Other sites cannot embed the site's pages, images or files.
CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"

# --- django-axes: admin login brute-force protection ------------------------------------
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_VERBOSE = False
# The same client address as the rate limits: REMOTE_ADDR unless DJANGO_CLIENT_IP_HEADER.
AXES_CLIENT_IP_CALLABLE = "core.client_ip.axes_client_ip"

# --- Email and the task queue -----------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Well Informed <hello@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The site's public address: absolute links in emails (confirm, unsubscribe) start with it
# and emails' Message-ID uses its host. Production must name it: a default would send every
# subscriber a link to a development address. `check --deploy` warns unless it is https.
SITE_URL = os.environ.get("SITE_URL", "").strip().rstrip("/")
if not SITE_URL:
    if not DEBUG:
        sys.exit(
            "Refusing to start: SITE_URL is not set (the site's public address for links in emails,"
            " e.g. https://www.example.org; or set DJANGO_DEBUG=1 for local development)."
        )
    SITE_URL = "http://127.0.0.1:8000"
if urlsplit(SITE_URL).scheme not in {"http", "https"} or not urlsplit(SITE_URL).hostname:
    sys.exit(f"Refusing to start: SITE_URL must be an http(s) address like https://www.example.org, not {SITE_URL!r}.")
# The sender's postal address, printed at the foot of every program email (anti-spam laws ask for one).
SITE_POSTAL_ADDRESS = os.environ.get("SITE_POSTAL_ADDRESS", "").strip()

# Medical review cycle: a published article is due this many months after its last approved
# review (or its publication); an article may set its own interval.
REVIEW_INTERVAL_MONTHS = int(os.environ.get("REVIEW_INTERVAL_MONTHS", "12"))

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

SIGNUP_RATE_LIMIT = os.environ.get("SIGNUP_RATE_LIMIT", "5/10m").strip()

# Retention (`manage.py purge_expired`, daily): pending signups never confirmed, and the stored
# text of sent emails (the delivery row itself stays), are deleted after these many days.
SIGNUP_PENDING_DAYS = int(os.environ.get("SIGNUP_PENDING_DAYS", "30"))
EMAIL_CONTENT_DAYS = int(os.environ.get("EMAIL_CONTENT_DAYS", "90"))

# --- Staff two-factor sign-in (django-otp: TOTP, recovery codes, passkeys) ----------------
# Staff see every subscriber's address and health interest: the admin asks for a second factor.
# ADMIN_REQUIRE_2FA=0 turns it off for local development only; production refuses to start so.
ADMIN_REQUIRE_2FA = env_bool("ADMIN_REQUIRE_2FA", True)
if not ADMIN_REQUIRE_2FA and not DEBUG:
    sys.exit("Refusing to start: ADMIN_REQUIRE_2FA=0 is only allowed with DJANGO_DEBUG=1 (development).")
LOGIN_REDIRECT_URL = "admin:index"
OTP_TOTP_ISSUER = SITE_NAME
# The device admins never show a TOTP key or its QR code, not even to superusers.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
OTP_WEBAUTHN_RP_NAME = SITE_NAME
# A passkey is a second factor after the password, never a way around it (or around axes).
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
_site_url = urlsplit(SITE_URL)
if _site_url.scheme == "https" or _site_url.hostname == "localhost":
    OTP_WEBAUTHN_RP_ID = _site_url.hostname
    OTP_WEBAUTHN_ALLOWED_ORIGINS = [SITE_URL]
else:
    # Browsers offer passkeys only on HTTPS or localhost (never on an IP address).
    OTP_WEBAUTHN_RP_ID = "localhost"
    OTP_WEBAUTHN_ALLOWED_ORIGINS = [f"http://localhost:{_site_url.port or 80}"]

# --- Logging: one line per event on stdout ----------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"()": "site_config.logging.OneLineFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": sys.stdout, "formatter": "line"}},
    "root": {"handlers": ["stdout"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

# Tags are one tag whatever their case: "Magnesium" and "magnesium".
TAGGIT_CASE_INSENSITIVE = True
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
