"""The site banner's protocol, cached so a page costs at most one query for it."""

from django.core.cache import cache

BANNER_CACHE_KEY = "protocols:banner:v1"
_MISSING = object()


def get_banner_protocol():
    """The newest announced open protocol, or None; one query when the cache is cold."""
    from .models import Protocol

    protocol = cache.get(BANNER_CACHE_KEY, _MISSING)
    if protocol is _MISSING:
        protocol = Protocol.objects.for_banner().only("name", "slug").first()
        # No timeout: saving or deleting any protocol deletes the key (see signals.py).
        cache.set(BANNER_CACHE_KEY, protocol, timeout=None)
    return protocol


def invalidate_banner():
    cache.delete(BANNER_CACHE_KEY)
