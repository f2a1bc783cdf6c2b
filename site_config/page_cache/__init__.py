"""Whole-page cache for anonymous readers, shared by every worker (and every app server).

The public API, the only part of site_config the apps import:

* ``register(Model, publish_at=None)``: called by each app in ``AppConfig.ready()`` for
  the models whose changes show on public pages (``publish_at`` names a field that makes
  an object public later without a save, such as a scheduled article's ``published_at``).
* ``@cache_public_page``: marks a view whose answers are the same for every anonymous
  reader. Nothing else is ever stored.
* ``{% cachedfragment %}`` (``fragment_version()`` and friends, fragments.py): parts of a
  public page shared by the renders Django still does (readers with a session cookie),
  stored under the same content version.
* ``bump_content_version()``: the one function that makes every stored page stale. Saves
  and deletes of registered models call it on commit; code that changes public content
  without a model signal (``QuerySet.update()``, a search reindex) calls it itself.

How it fits together:

* ``PageCacheMiddleware`` (first in MIDDLEWARE, so its response phase sees the final
  headers: CSP, security headers, frame denial) STORES a response when it is safe to
  share: GET, status 200, anonymous, no cookie set (a page that used its CSRF token sets
  the CSRF cookie, so a page with a CSRF-protected form is never stored), no
  session/messages cookie in the request, no ``private``/``no-store``/``no-cache`` from
  the view. It stores status, headers and body with an ETag under a key made of scheme,
  host, path, the normalised query string and the content version read when the request
  started.
* ``PageCacheWSGI`` (site_config/wsgi.py wraps Django with it) READS: for a GET/HEAD
  without a session or messages cookie it looks up the content version and the page and
  answers straight from the cache, 304 included, without building a Django request.
* Tracking parameters (``fbclid``, ``gclid``, ``utm_*``...) are not part of the key, and
  the middleware removes them before the view runs: a shared link is the same page.
* Scheduled objects become public without any save, so no signal fires then. A stored
  page never outlives the soonest registered ``publish_at`` in the future.

The cache is django.core.cache "default": Redis with REDIS_URL, otherwise the file cache
in var/cache that all workers of one machine share. Why a page cache at all, and why the
signup form carries no CSRF token: docs/decisions/page-cache.md.
"""

from .fragments import fragment_key, fragment_version, get_fragment, remembered, remembered_object, set_fragment
from .keys import page_key, without_tracking
from .middleware import PageCacheMiddleware, cache_public_page
from .read_path import PageCacheWSGI
from .registry import next_publish_boundary, register, registered_models
from .store import bump_content_version, current_version, page_cache_enabled

__all__ = [
    "PageCacheMiddleware",
    "PageCacheWSGI",
    "bump_content_version",
    "cache_public_page",
    "current_version",
    "fragment_key",
    "fragment_version",
    "get_fragment",
    "next_publish_boundary",
    "page_cache_enabled",
    "page_key",
    "register",
    "registered_models",
    "remembered",
    "remembered_object",
    "set_fragment",
    "without_tracking",
]
