"""Refuse form posts that a browser sends on behalf of another site.

The signup form carries no CSRF token, so its page is the same for everyone and the page
cache can share it (docs/decisions/page-cache.md). Instead its posts are checked the way
Go 1.25's ``http.CrossOriginProtection`` checks requests, from headers a page cannot forge:

1. ``Origin`` listed in CSRF_TRUSTED_ORIGINS: allowed.
2. ``Sec-Fetch-Site`` present (every current browser sends it): allowed only for
   ``same-origin`` (our own page) or ``none`` (the reader's own action, e.g. a bookmark).
3. Otherwise ``Origin`` present: allowed only when it is this site's own origin.
4. Neither header: not a browser page's post (a script, a very old browser): allowed.
   There is nothing to steal here: posting signs up an address that must still confirm
   by email, so such a client could as well post directly.
"""

from functools import wraps

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def is_cross_origin(request):
    """True when a browser sent this request from a page of another origin."""
    origin = request.headers.get("Origin")
    if origin and origin in settings.CSRF_TRUSTED_ORIGINS:
        return False
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in {"same-origin", "none"}
    if origin is None:
        return False
    return origin != f"{request.scheme}://{request.get_host()}"


def same_origin_posts(view):
    """Exempt a view from Django's CSRF token check and refuse cross-origin posts instead (403)."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in SAFE_METHODS and is_cross_origin(request):
            response = render(request, "protocols/cross_origin.html", status=403)
            response["Cache-Control"] = "no-store"
            return response
        return view(request, *args, **kwargs)

    return wrapper
