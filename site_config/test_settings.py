"""Settings for the test suite: the real settings with fast, isolated parts."""

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("DJANGO_HTTPS", "0")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
os.environ.setdefault("DJANGO_VAR_DIR", tempfile.mkdtemp(prefix="site-test-var-"))

from .settings import *  # noqa: E402,F403
from .settings import REDIS_URL, STORAGES, VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests render templates without running collectstatic first.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = VAR_DIR / "staticfiles"
SIGNUP_RATE_LIMIT = "off"
# force_login() has no client address, which django-axes would record as "unknown" (an
# invalid inet on PostgreSQL). The lockout tests switch it on themselves.
AXES_ENABLED = False
# Unit tests use this process's memory (cleared around every test, private to each xdist
# worker). A run with REDIS_URL (CI's Redis pass) opts into Redis; the live tests under
# gunicorn (tests/production/) run the production settings: the file cache, or Redis.
if not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
