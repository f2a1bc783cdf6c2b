"""The cache key of a page, computed the same way by the read path and the middleware."""

import hashlib
from urllib.parse import parse_qsl, urlencode

from django.conf import settings

PAGE_KEY = "page-cache:page:{version}:{digest}"
# Part of every digest: bumped when a stored entry changes shape, so entries an older
# release stored (e.g. with CSRF placeholders) are never read by this one.
_ENTRY_FORMAT = "2"


def page_key(version, scheme, host, script_name, path, query_string):
    """The cache key of one page: same inputs in the WSGI read path and the middleware.

    The query string is normalised (sorted), so ``/?b=2&a=1`` and ``/?a=1&b=2`` are one page.
    """
    if query_string:
        query_string = urlencode(sorted(parse_qsl(query_string, keep_blank_values=True)))
    raw = f"{_ENTRY_FORMAT}|{scheme}|{host.lower()}|{script_name}{path}?{query_string}"
    digest = hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()
    return PAGE_KEY.format(version=version, digest=digest)


def environ_page_key(version, environ_get):
    """``page_key`` for a WSGI environ (or a request's META), read through its ``get``."""
    return page_key(
        version,
        request_scheme(environ_get),
        environ_get("HTTP_HOST") or environ_get("SERVER_NAME", ""),
        environ_get("SCRIPT_NAME", ""),
        environ_get("PATH_INFO", ""),
        environ_get("QUERY_STRING", ""),
    )


def request_scheme(environ_get):
    header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if header:
        name, secure_value = header
        value = environ_get(name)
        if value is not None:
            value = value.split(",", 1)[0].strip()
            return "https" if value == secure_value else "http"
    return environ_get("wsgi.url_scheme", "http")


def shared_cookie_names():
    """Cookies that make a page personal: a request carrying one is never served from the cache."""
    return {settings.SESSION_COOKIE_NAME, getattr(settings, "MESSAGES_COOKIE_NAME", "messages")}


def has_private_cookie(cookie_header, names):
    if not cookie_header:
        return False
    for part in cookie_header.split(";"):
        name = part.split("=", 1)[0].strip()
        if name in names:
            return True
    return False
