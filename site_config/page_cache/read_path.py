"""The read path: a WSGI wrapper answering anonymous GET/HEAD from the cache (site_config/wsgi.py)."""

import logging
import secrets
import time

from . import store
from .keys import environ_page_key, has_private_cookie, shared_cookie_names
from .middleware import ENVIRON_VERSION, NONCE_PLACEHOLDER

logger = logging.getLogger(__name__)

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
        self.private_cookies = shared_cookie_names()

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD") or has_private_cookie(environ.get("HTTP_COOKIE"), self.private_cookies):
            return self.application(environ, start_response)
        try:
            hit = self._lookup(environ)
        except Exception:
            logger.exception("page cache: lookup failed")
            hit = None
        if hit is None:
            return self.application(environ, start_response)
        return self._serve(environ, start_response, method, hit)

    @staticmethod
    def _lookup(environ):
        cache = store.cache()
        version = cache.get(store.VERSION_KEY)
        if version is None:
            return None
        # Django's middleware stores under the version read here, not a later one.
        environ[ENVIRON_VERSION] = version
        hit = cache.get(environ_page_key(version, environ.get))
        if hit is None or hit["expires_at"] <= time.time():
            return None
        return hit

    @staticmethod
    def _serve(environ, start_response, method, hit):
        headers = hit["headers"]
        body = hit["body"]
        if hit["nonce"]:
            nonce = secrets.token_urlsafe(18)
            body = body.replace(NONCE_PLACEHOLDER.encode(), nonce.encode())
            headers = [(k, v.replace(NONCE_PLACEHOLDER, nonce)) for k, v in headers]
        # Says which responses skipped Django (for operators and the live tests).
        headers = [*headers, ("X-Page-Cache", "hit")]
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match and hit["etag"] and _etag_matches(if_none_match, hit["etag"]):
            not_modified = [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-language")]
            start_response(_STATUS_LINES[304], not_modified)
            return []
        start_response(_STATUS_LINES.get(hit["status"], "200 OK"), [*headers, ("Content-Length", str(len(body)))])
        return [] if method == "HEAD" else [body]
