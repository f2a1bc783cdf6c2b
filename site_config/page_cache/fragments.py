"""Template fragments shared by every reader of a public page, under the content version.

The page cache answers anonymous readers without a session cookie. Everyone else who
asks for a public page (a reader whose session expired, a logged-in reader, staff) gets
a page rendered by Django: ``{% cachedfragment %}`` (site_config/templatetags/) lets
those renders reuse the parts that are the same for every reader. A fragment is stored
under the content version read when the request started, so any change that makes pages
stale (``bump_content_version()``) makes fragments stale too, and never outlives the next
scheduled publication either.

Only GET and HEAD requests to views marked ``@cache_public_page`` share fragments: the
editors' preview of a draft, a form posted with errors and every other view render theirs
afresh.
"""

import hashlib
import logging
import time

from django.utils.functional import SimpleLazyObject

from . import registry, store

logger = logging.getLogger(__name__)

FRAGMENT_KEY = "page-cache:fragment:{version}:{name}:{digest}"


def fragment_version(request):
    """The content version this request's fragments may be shared under, or None (render them)."""
    if request is None or request.method not in ("GET", "HEAD"):
        return None
    if not getattr(request, "page_cache_public_view", False):
        return None
    return getattr(request, "page_cache_version", None)


def fragment_key(version, name, parts):
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return FRAGMENT_KEY.format(version=version, name=name, digest=digest)


def get_fragment(key):
    """The stored value, or None. Its expiry time is checked here, as the page cache's read
    path does, not left to the cache's own TTL: Redis counts that on its own clock, which
    an app server's (moved or skewed) clock may be ahead of at a scheduled publication."""
    try:
        entry = store.cache().get(key)
    except Exception:
        logger.exception("page cache: could not read a fragment")
        return None
    if not isinstance(entry, dict) or entry.get("expires_at", 0) <= time.time():
        return None
    return entry["value"]


def set_fragment(key, html, version):
    try:
        timeout = registry.entry_timeout(version)
        if timeout >= 1:
            store.cache().set(key, {"expires_at": time.time() + timeout, "value": html}, timeout)
    except Exception:
        logger.exception("page cache: could not store a fragment")


def remembered(request, name, parts, compute):
    """`compute()` (a list or tuple of plain values, never a model instance: it must read back
    after a release), stored under this request's fragment version like a fragment.

    For what a public view must know before it renders (does this address name something
    public, how many items has its list): a page from the fragment cache then reads nothing
    else. Empty results are not stored (made-up addresses must not fill the cache)."""
    version = fragment_version(request)
    if version is None:
        return compute()
    key = fragment_key(version, name, parts)
    value = get_fragment(key)
    if value is None:
        value = compute()
        if value:
            set_fragment(key, value, version)
    return value


def remembered_object(request, name, parts, load):
    """`load()`'s object (it raises Http404 when there is none), read now only when whether
    it exists is not yet remembered under this request's fragment version; otherwise a lazy
    object read when the page first uses it, so a page from the fragment cache reads none."""
    loaded = []

    def exists():
        loaded.append(load())
        return [True]

    remembered(request, name, parts, exists)
    return loaded[0] if loaded else SimpleLazyObject(load)
