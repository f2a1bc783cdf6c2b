"""Whole-page cache for anonymous readers (contract; the production work fills it in).

Views opt in with @cache_public_page. Responses to logged-in users, responses that set
cookies, and anything not a 200 GET are never stored. Content changes call
bump_content_version(), which makes every cached page stale on every worker at once.
"""

from functools import wraps


def cache_public_page(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.cache_public_page = True
        return response

    return wrapper


def bump_content_version():
    """Make every cached page stale (placeholder until the page cache lands)."""
