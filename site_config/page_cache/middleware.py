"""The store path: ``@cache_public_page`` marks a view, the middleware stores its answers."""

import hashlib
import logging
import re
import time
from functools import wraps

from django.core.exceptions import MiddlewareNotUsed
from django.utils.cache import get_conditional_response, patch_vary_headers

from . import registry, store
from .keys import environ_page_key, shared_cookie_names, without_tracking

logger = logging.getLogger(__name__)

ENVIRON_VERSION = "site.page_cache_version"
# Shared caches (a CDN or proxy) and browsers may keep a public page this long; the
# application cache itself is invalidated instantly by version, so keep it short.
PUBLIC_CACHE_CONTROL = "public, max-age={max_age}, s-maxage={max_age}"
PRIVATE_CACHE_CONTROL = "private, no-cache"
# Headers that belong to one response only and are recomputed when serving.
_HOP_HEADERS = {"content-length", "set-cookie", "date", "connection", "keep-alive", "transfer-encoding"}
_NONCE = re.compile(r"'nonce-([^']+)'")
NONCE_PLACEHOLDER = "page-cache-nonce-placeholder"


def cache_public_page(view):
    """Mark a view's responses as the same for every anonymous reader (safe to store)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        # Known before the view renders: its template fragments may be shared (fragments.py).
        # Not the error page a view raises (a 404 for any made-up address would be stored).
        request.page_cache_public_view = True
        try:
            response = view(request, *args, **kwargs)
        except Exception:
            request.page_cache_public_view = False
            raise
        response.cache_public_page = True
        return response

    return wrapper


def etag(body):
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


class PageCacheMiddleware:
    """Store shareable responses; mark public and private pages for caches in front."""

    def __init__(self, get_response):
        if not store.page_cache_enabled():
            raise MiddlewareNotUsed("page cache off (DEBUG)")
        self.get_response = get_response

    def __call__(self, request):
        version = None
        if request.method in ("GET", "HEAD"):
            _drop_tracking_parameters(request)
            # Read the version BEFORE the view reads the database: a change committed
            # during rendering then bumps past this version, and a page rendered from
            # the old data can never be stored under the new version.
            version = request.META.get(ENVIRON_VERSION)
            if version is None:
                try:
                    version = store.current_version(create=True)
                except Exception:
                    logger.exception("page cache: cache unavailable")
            # Template fragments are stored under this same version (fragments.py).
            request.page_cache_version = version
        response = self.get_response(request)
        if not getattr(response, "cache_public_page", False):
            return response
        patch_vary_headers(response, ["Cookie"])
        if not self._shareable(request, response):
            # Logged-in readers, pages that set a cookie (a form's CSRF token included) and
            # anything the view marked private: never stored, never in a shared cache.
            response["Cache-Control"] = PRIVATE_CACHE_CONTROL
            return response
        response["Cache-Control"] = PUBLIC_CACHE_CONTROL.format(max_age=store.max_age())
        response["ETag"] = etag(response.content)
        if request.method == "GET" and version is not None:
            self._store(request, response, version)
        return get_conditional_response(request, etag=response["ETag"], response=response)

    @staticmethod
    def _shareable(request, response):
        """The same for every anonymous reader: safe to store and to send as public."""
        if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.streaming:
            return False
        if shared_cookie_names() & set(request.COOKIES):
            return False
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return False
        cache_control = response.get("Cache-Control", "").lower()
        if any(word in cache_control for word in ("private", "no-store", "no-cache")):
            return False
        # A page that used its CSRF token sets the CSRF cookie: per visitor, never shared.
        return not response.cookies and not response.has_header("Set-Cookie")

    @staticmethod
    def _store(request, response, version):
        try:
            timeout = registry.entry_timeout(version)
        except Exception:
            logger.exception("page cache: could not compute the next scheduled publication")
            return
        if timeout < 1:
            return
        body = response.content
        headers = [(k, v) for k, v in response.items() if k.lower() not in _HOP_HEADERS]
        entry_etag = response["ETag"]
        nonce = None
        match = _NONCE.search(response.get("Content-Security-Policy", ""))
        if match:
            # A CSP nonce must differ per response: store a placeholder and put a fresh
            # nonce in the header and the body each time the page is served.
            nonce = match.group(1)
            body = body.replace(nonce.encode(), NONCE_PLACEHOLDER.encode())
            headers = [(k, v.replace(nonce, NONCE_PLACEHOLDER)) for k, v in headers]
            headers = [(k, ("W/" + v) if k.lower() == "etag" else v) for k, v in headers]
            entry_etag = "W/" + entry_etag
        entry = {
            "status": response.status_code,
            "headers": headers,
            "body": body,
            "etag": entry_etag,
            "nonce": bool(nonce),
            # Checked on every read as well as given to the cache: the read path never
            # serves a page past a scheduled publication, whatever the backend's expiry
            # granularity (Redis counts whole seconds).
            "expires_at": time.time() + timeout,
        }
        key = environ_page_key(version, request.META.get)
        try:
            store.cache().set(key, entry, timeout)
        except Exception:
            logger.exception("page cache: could not store %s", request.path)


def _drop_tracking_parameters(request):
    """The view sees the page's own parameters only, so a page rendered for
    ``/?fbclid=x`` is exactly the page for ``/`` and may be stored as that page."""
    query_string = request.META.get("QUERY_STRING", "")
    cleaned = without_tracking(query_string)
    if cleaned != query_string:
        request.META["QUERY_STRING"] = cleaned
        # request.GET is computed from QUERY_STRING on first use; nothing has read it yet
        # (this middleware comes first), but drop a cached copy should that ever change.
        request.__dict__.pop("GET", None)
