"""The cache key of a page, computed the same way by the read path and the middleware."""

import hashlib
import re
from urllib.parse import parse_qsl, urlencode

from django.conf import settings

PAGE_KEY = "page-cache:page:{version}:{digest}"
# Part of every digest: bumped when a stored entry changes shape, so entries an older
# release stored (e.g. with CSRF placeholders) are never read by this one.
_ENTRY_FORMAT = "2"

# Parameters that ad networks, newsletters and analytics add to shared links. They change
# nothing on the page, yet each value is unique (an fbclid per click): kept in the key,
# every shared link would miss the cache and store one more copy of the same page.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",  # Facebook, Instagram
        "gclid",  # Google Ads
        "gbraid",
        "wbraid",
        "gclsrc",
        "dclid",  # Google Display & Video
        "msclkid",  # Microsoft Advertising
        "yclid",  # Yandex
        "igshid",  # Instagram share
        "twclid",  # X / Twitter
        "ttclid",  # TikTok
        "li_fat_id",  # LinkedIn
        "mc_cid",  # Mailchimp
        "mc_eid",
        "_ga",  # Google Analytics cross-domain
        "_gl",
        "_hsenc",  # HubSpot
        "_hsmi",
        "mkt_tok",  # Marketo
        "oly_anon_id",  # Omeda
        "oly_enc_id",
        "vero_id",  # Vero
        "s_cid",  # Adobe
    }
)
TRACKING_PREFIXES = ("utm_",)  # utm_source, utm_medium, utm_campaign, utm_term, utm_content, utm_id...
# A quick test before any parsing: most query strings carry no tracking parameter at all.
_MAY_TRACK = re.compile(
    r"(?:^|&)(?:utm_|" + "|".join(sorted(map(re.escape, TRACKING_PARAMETERS))) + r")",
    re.IGNORECASE,
)


def is_tracking_parameter(name):
    name = name.lower()
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)


def without_tracking(query_string):
    """The query string without tracking parameters; the very same string when it has none.

    Works on the raw string (no decoding and re-encoding): the parameters kept are kept
    byte for byte, and the read path pays a few microseconds, not a parse.
    """
    if not query_string or not _MAY_TRACK.search(query_string):
        return query_string
    parts = query_string.split("&")
    kept = [part for part in parts if not is_tracking_parameter(part.partition("=")[0])]
    if len(kept) == len(parts):
        return query_string
    return "&".join(kept)


def page_key(version, scheme, host, script_name, path, query_string):
    """The cache key of one page: same inputs in the WSGI read path and the middleware.

    The query string is normalised (tracking parameters dropped, the rest sorted), so
    ``/?b=2&a=1&fbclid=x`` and ``/?a=1&b=2`` are one page.
    """
    query_string = without_tracking(query_string)
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
