"""Where pages live (django.core.cache) and the content version they are stored under."""

import logging
import secrets
import time

from django.conf import settings
from django.core.cache import caches

logger = logging.getLogger(__name__)

VERSION_KEY = "page-cache:version"


def cache():
    """The cache pages and the version live in: "default" unless PAGE_CACHE_ALIAS says otherwise."""
    return caches[getattr(settings, "PAGE_CACHE_ALIAS", "default")]


def page_cache_enabled():
    """On unless DEBUG: in development an edited template must show on the next reload."""
    return getattr(settings, "PAGE_CACHE_ENABLED", not settings.DEBUG)


def page_timeout():
    return int(getattr(settings, "PAGE_CACHE_TIMEOUT", 1800))


def max_age():
    return int(getattr(settings, "PAGE_CACHE_MAX_AGE", 60))


def _new_version():
    # Unique per call (time plus randomness): two bumps racing can never write the same
    # value, so no change is lost even on a cache without an atomic increment.
    return f"{time.time_ns():x}{secrets.token_hex(4)}"


def bump_content_version():
    """Make every cached page stale, on every worker and app server, immediately.

    The one place the version changes. Registered models (see ``register``) call it on
    commit; code that changes public content without a model signal (``QuerySet.update()``,
    a rebuilt search index) calls it itself, after its own derived data is current.
    """
    try:
        cache().set(VERSION_KEY, _new_version(), None)
    except Exception:
        # A cache outage must not break saving content; pages stored under the old
        # version cannot be read while the cache is down either.
        logger.exception("page cache: could not bump the content version")


def current_version(*, create=False):
    """The content version pages are stored under, or None when there is none yet."""
    store = cache()
    version = store.get(VERSION_KEY)
    if version is None and create:
        store.add(VERSION_KEY, _new_version(), None)
        version = store.get(VERSION_KEY)
    return version
