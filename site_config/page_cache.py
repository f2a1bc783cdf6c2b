"""Whole-page cache for anonymous readers, shared by every worker (and every app server).

How it fits together:

* Views opt in with ``@cache_public_page``. Nothing else is ever stored.
* ``PageCacheMiddleware`` (first in MIDDLEWARE, so its response phase sees the final
  headers: CSP, security headers, frame denial) STORES a response when it is safe to
  share: GET, status 200, anonymous, no cookie set or needed (a page that used its CSRF
  token sets the CSRF cookie, so a form page is never stored), no session/messages cookie
  in the request, no ``private``/``no-store``/``no-cache`` from the view. It stores
  status, headers and body with an ETag (hash of the body) under a key made of scheme,
  host, path, the normalised query string and the content version read when the request
  started.
* ``PageCacheWSGI`` (site_config/wsgi.py wraps Django with it) READS: for a GET/HEAD
  without a session or messages cookie it looks up the content version and the page and
  answers straight from the cache, 304 included, without building a Django request at
  all. Everything else goes to Django.
* ``bump_content_version()`` writes a fresh, unique version: every stored page becomes
  unreachable on every worker at once. Signals call it on commit (site_config/apps.py).
* A public page with a CSRF form (the protocol signup) is stored as a template: every
  masked token of the rendering visitor is replaced by a placeholder, and the read path
  fills in a fresh token for each visitor's own CSRF cookie (setting a new cookie when
  the visitor has none). Such pages are ``private, no-cache`` for caches in front, and
  no visitor ever receives another visitor's token.
* Scheduled articles become public at ``published_at`` without any save, so no signal
  fires then. A stored page therefore never outlives the next scheduled publication time:
  its TTL is capped to it (the boundary is computed once per content version and kept in
  the cache beside it).

The cache is django.core.cache "default": Redis with REDIS_URL, otherwise the file cache
in var/cache that all workers of one machine share.
"""

import hashlib
import logging
import re
import secrets
import time
from functools import wraps
from urllib.parse import parse_qsl, urlencode

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import MiddlewareNotUsed
from django.db.models import Min
from django.http import HttpResponse
from django.middleware import csrf
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers

logger = logging.getLogger(__name__)

VERSION_KEY = "page-cache:version"
NEXT_BOUNDARY_KEY = "page-cache:next-publish:{version}"
PAGE_KEY = "page-cache:page:{version}:{digest}"
ENVIRON_VERSION = "site.page_cache_version"

# Shared caches (a CDN or proxy) and browsers may keep a public page this long; the
# application cache itself is invalidated instantly by version, so keep it short.
PUBLIC_CACHE_CONTROL = "public, max-age={max_age}, s-maxage={max_age}"
PRIVATE_CACHE_CONTROL = "private, no-cache"
# Headers that belong to one response only and are recomputed when serving.
_HOP_HEADERS = {"content-length", "set-cookie", "date", "connection", "keep-alive", "transfer-encoding"}
_NONCE = re.compile(r"'nonce-([^']+)'")
_NONCE_PLACEHOLDER = "page-cache-nonce-placeholder"
_CSRF_PLACEHOLDER = b"page-cache-csrf-token-placeholder"
_CSRF_TOKEN = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{%d}(?![A-Za-z0-9])" % csrf.CSRF_TOKEN_LENGTH)
# Models whose changes are visible on public pages, with the field (if any) that makes
# an object public later without a save.
CONTENT_MODELS = {
    "articles.Article": "published_at",
    "articles.Reference": None,
    "articles.Author": None,
    "articles.TaggedArticle": None,
    "taggit.Tag": None,
    "taggit.TaggedItem": None,
    "protocols.Protocol": None,
}


def _cache():
    return caches[getattr(settings, "PAGE_CACHE_ALIAS", "default")]


def page_cache_enabled():
    """On unless DEBUG: in development an edited template must show on the next reload."""
    return getattr(settings, "PAGE_CACHE_ENABLED", not settings.DEBUG)


def _page_timeout():
    return int(getattr(settings, "PAGE_CACHE_TIMEOUT", 1800))


def _max_age():
    return int(getattr(settings, "PAGE_CACHE_MAX_AGE", 60))


def cache_public_page(view):
    """Mark a view's responses as the same for every anonymous reader (safe to store)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.cache_public_page = True
        return response

    return wrapper


def _new_version():
    # Unique per call (time plus randomness): two bumps racing can never write the same
    # value, so no change is lost even on a cache without an atomic increment.
    return f"{time.time_ns():x}{secrets.token_hex(4)}"


def bump_content_version():
    """Make every cached page stale, on every worker and app server, immediately."""
    try:
        _cache().set(VERSION_KEY, _new_version(), None)
    except Exception:
        # A cache outage must not break saving content; pages stored under the old
        # version cannot be read while the cache is down either.
        logger.exception("page cache: could not bump the content version")


def current_version(*, create=False):
    """The content version pages are stored under, or None when there is none yet."""
    cache = _cache()
    version = cache.get(VERSION_KEY)
    if version is None and create:
        cache.add(VERSION_KEY, _new_version(), None)
        version = cache.get(VERSION_KEY)
    return version


def page_key(version, scheme, host, script_name, path, query_string):
    """The cache key of one page: same inputs in the WSGI read path and the middleware."""
    if query_string:
        query_string = urlencode(sorted(parse_qsl(query_string, keep_blank_values=True)))
    raw = f"{scheme}|{host.lower()}|{script_name}{path}?{query_string}"
    digest = hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()
    return PAGE_KEY.format(version=version, digest=digest)


def next_publish_boundary(version):
    """Unix time at which a scheduled object becomes public, or None (cached per version)."""
    cache = _cache()
    key = NEXT_BOUNDARY_KEY.format(version=version)
    cached = cache.get(key)
    now = time.time()
    if cached is not None and (cached == 0 or cached > now):
        return cached or None
    boundary = None
    for label, field in CONTENT_MODELS.items():
        if not field:
            continue
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        # Any future time counts, drafts included: capping too often is harmless.
        soonest = model._default_manager.filter(**{f"{field}__gt": timezone.now()}).aggregate(t=Min(field))["t"]
        if soonest is not None:
            ts = soonest.timestamp()
            boundary = ts if boundary is None else min(boundary, ts)
    cache.set(key, boundary or 0, _page_timeout())
    return boundary


def _etag(body):
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _shared_cookie_names():
    return {settings.SESSION_COOKIE_NAME, getattr(settings, "MESSAGES_COOKIE_NAME", "messages")}


def _request_scheme(environ_get):
    header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if header:
        name, secure_value = header
        value = environ_get(name)
        if value is not None:
            value = value.split(",", 1)[0].strip()
            return "https" if value == secure_value else "http"
    return environ_get("wsgi.url_scheme", "http")


def _has_private_cookie(cookie_header, names):
    if not cookie_header:
        return False
    for part in cookie_header.split(";"):
        name = part.split("=", 1)[0].strip()
        if name in names:
            return True
    return False


class PageCacheMiddleware:
    """Store shareable responses; mark public and private pages for caches in front."""

    def __init__(self, get_response):
        if not page_cache_enabled():
            raise MiddlewareNotUsed("page cache off (DEBUG)")
        self.get_response = get_response

    def __call__(self, request):
        version = None
        if request.method in ("GET", "HEAD"):
            # Read the version BEFORE the view reads the database: a change committed
            # during rendering then bumps past this version, and a page rendered from
            # the old data can never be stored under the new version.
            version = request.META.get(ENVIRON_VERSION)
            if version is None:
                try:
                    version = current_version(create=True)
                except Exception:
                    logger.exception("page cache: cache unavailable")
        response = self.get_response(request)
        if not getattr(response, "cache_public_page", False):
            return response
        kind = self._classify(request, response)
        patch_vary_headers(response, ["Cookie"])
        if kind != "public":
            # Logged-in readers, pages with a visitor's CSRF token or any other cookie,
            # and anything the view marked private: never in a shared cache in front.
            response["Cache-Control"] = PRIVATE_CACHE_CONTROL
            if kind == "csrf" and request.method == "GET" and version is not None:
                self._store(request, response, version, csrf_secret=request.META["CSRF_COOKIE"])
            return response
        response["Cache-Control"] = PUBLIC_CACHE_CONTROL.format(max_age=_max_age())
        response["ETag"] = _etag(response.content)
        if request.method == "GET" and version is not None:
            self._store(request, response, version)
        return get_conditional_response(request, etag=response["ETag"], response=response)

    @staticmethod
    def _classify(request, response):
        """ "public": the same for everyone; "csrf": the same but for the visitor's CSRF
        token; None: not to be stored."""
        if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.streaming:
            return None
        if _shared_cookie_names() & set(request.COOKIES):
            return None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        cache_control = response.get("Cache-Control", "").lower()
        if any(word in cache_control for word in ("private", "no-store", "no-cache")):
            return None
        # The CSRF token was used for this response (a form): its cookie is per visitor.
        # (CsrfViewMiddleware has set its cookie by now and reset the "needs update" flag.)
        cookies = set(response.cookies)
        csrf_used = settings.CSRF_COOKIE_NAME in cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        if not csrf_used and not cookies and not response.has_header("Set-Cookie"):
            return "public"
        if (
            csrf_used
            and cookies <= {settings.CSRF_COOKIE_NAME}
            and not settings.CSRF_USE_SESSIONS
            and len(request.META.get("CSRF_COOKIE") or "") == csrf.CSRF_SECRET_LENGTH
        ):
            return "csrf"
        return None

    @staticmethod
    def _store(request, response, version, csrf_secret=None):
        timeout = _page_timeout()
        try:
            boundary = next_publish_boundary(version)
        except Exception:
            logger.exception("page cache: could not compute the next scheduled publication")
            return
        if boundary is not None:
            # A scheduled article goes public then: the page must not outlive it.
            timeout = min(timeout, int(boundary - time.time()))
        if timeout < 1:
            return
        body = response.content
        headers = [(k, v) for k, v in response.items() if k.lower() not in _HOP_HEADERS]
        nonce = None
        csp = response.get("Content-Security-Policy", "")
        match = _NONCE.search(csp)
        if match:
            # A CSP nonce must differ per response: store a placeholder and put a fresh
            # nonce in the header and the body each time the page is served.
            nonce = match.group(1)
            body = body.replace(nonce.encode(), _NONCE_PLACEHOLDER.encode())
            headers = [(k, v.replace(nonce, _NONCE_PLACEHOLDER)) for k, v in headers]
            headers = [(k, ("W/" + v) if k.lower() == "etag" else v) for k, v in headers]
        if csrf_secret:
            body = _punch_csrf_holes(body, csrf_secret)
            if body is None:
                return
        entry = {
            "status": response.status_code,
            "headers": headers,
            "body": body,
            "etag": None if csrf_secret else (response["ETag"] if not nonce else "W/" + response["ETag"]),
            "nonce": bool(nonce),
            "csrf": bool(csrf_secret),
        }
        key = page_key(
            version,
            _request_scheme(request.META.get),
            request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", ""),
            request.META.get("SCRIPT_NAME", ""),
            request.META.get("PATH_INFO", ""),
            request.META.get("QUERY_STRING", ""),
        )
        try:
            _cache().set(key, entry, timeout)
        except Exception:
            logger.exception("page cache: could not store %s", request.path)


def _punch_csrf_holes(body, secret):
    """Replace every token of this visitor's CSRF secret by a placeholder, or None if unsafe."""

    def replace(match):
        token = match.group().decode()
        return _CSRF_PLACEHOLDER if csrf._unmask_cipher_token(token) == secret else match.group()

    punched = _CSRF_TOKEN.sub(replace, body)
    if secret.encode() in punched or _CSRF_PLACEHOLDER not in punched:
        # The secret in some other form, or no token found where one was used: unsafe to share.
        return None
    return punched


def _csrf_cookie_secret(cookie_header):
    """The visitor's CSRF secret from their cookie, if well-formed (as Django reads it)."""
    if not cookie_header:
        return None
    name = settings.CSRF_COOKIE_NAME
    for part in cookie_header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            value = value.strip()
            try:
                csrf._check_token_format(value)
            except csrf.InvalidTokenFormat:
                return None
            return csrf._unmask_cipher_token(value) if len(value) == csrf.CSRF_TOKEN_LENGTH else value
    return None


def _csrf_cookie_header(secret):
    """The Set-Cookie value Django's CsrfViewMiddleware would send for this secret."""
    response = HttpResponse()
    response.set_cookie(
        settings.CSRF_COOKIE_NAME,
        secret,
        max_age=settings.CSRF_COOKIE_AGE,
        domain=settings.CSRF_COOKIE_DOMAIN,
        path=settings.CSRF_COOKIE_PATH,
        secure=settings.CSRF_COOKIE_SECURE,
        httponly=settings.CSRF_COOKIE_HTTPONLY,
        samesite=settings.CSRF_COOKIE_SAMESITE,
    )
    return response.cookies[settings.CSRF_COOKIE_NAME].output(header="").strip()


_STATUS_LINES = {200: "200 OK", 304: "304 Not Modified"}


def _etag_matches(if_none_match, etag):
    if if_none_match.strip() == "*":
        return True
    weak = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == weak for candidate in if_none_match.split(","))


class PageCacheWSGI:
    """WSGI wrapper: answer anonymous GET/HEAD from the page cache, else call Django."""

    def __init__(self, application):
        self.application = application
        self.private_cookies = _shared_cookie_names()

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD") or _has_private_cookie(environ.get("HTTP_COOKIE"), self.private_cookies):
            return self.application(environ, start_response)
        try:
            hit = self._lookup(environ)
        except Exception:
            logger.exception("page cache: lookup failed")
            hit = None
        if hit is None:
            return self.application(environ, start_response)
        return self._serve(environ, start_response, method, hit)

    def _lookup(self, environ):
        cache = _cache()
        version = cache.get(VERSION_KEY)
        if version is None:
            return None
        # Django's middleware stores under the version read here, not a later one.
        environ[ENVIRON_VERSION] = version
        key = page_key(
            version,
            _request_scheme(environ.get),
            environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
        )
        return cache.get(key)

    @staticmethod
    def _serve(environ, start_response, method, hit):
        headers = hit["headers"]
        body = hit["body"]
        if hit["nonce"]:
            nonce = secrets.token_urlsafe(18)
            body = body.replace(_NONCE_PLACEHOLDER.encode(), nonce.encode())
            headers = [(k, v.replace(_NONCE_PLACEHOLDER, nonce)) for k, v in headers]
        if hit.get("csrf"):
            # Each visitor gets tokens for their own CSRF cookie, never the stored ones.
            secret = _csrf_cookie_secret(environ.get("HTTP_COOKIE")) or csrf._get_new_csrf_string()
            parts = body.split(_CSRF_PLACEHOLDER)
            tokens = [csrf._mask_cipher_secret(secret).encode() for _ in parts[1:]]
            body = b"".join(part for pair in zip(parts, [*tokens, b""], strict=True) for part in pair)
            headers = [*headers, ("Set-Cookie", _csrf_cookie_header(secret))]
        # Says which responses skipped Django (for operators and the live tests).
        headers = [*headers, ("X-Page-Cache", "hit")]
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match and hit["etag"] and _etag_matches(if_none_match, hit["etag"]):
            not_modified = [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-language")]
            start_response(_STATUS_LINES[304], not_modified)
            return []
        start_response(_STATUS_LINES.get(hit["status"], "200 OK"), [*headers, ("Content-Length", str(len(body)))])
        return [] if method == "HEAD" else [body]
