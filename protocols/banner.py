"""The site banner's protocol, cached so a page costs at most one query for it."""

from dataclasses import dataclass

from django.core.cache import cache
from django.urls import reverse

# Bump the suffix when BannerProtocol changes shape.
BANNER_CACHE_KEY = "protocols:banner:v2"
_MISSING = object()


@dataclass(frozen=True)
class BannerProtocol:
    """What the banner needs, and nothing that breaks when the model changes."""

    name: str
    slug: str

    def get_absolute_url(self):
        return reverse("protocols:detail", kwargs={"slug": self.slug})


def get_banner_protocol():
    """The newest announced open protocol (a BannerProtocol) or None; one query when the cache is cold."""
    from .models import Protocol

    banner = cache.get(BANNER_CACHE_KEY, _MISSING)
    if banner is _MISSING:
        row = Protocol.objects.for_banner().values_list("name", "slug").first()
        banner = BannerProtocol(*row) if row else None
        # No timeout: saving or deleting any protocol deletes the key (see signals.py).
        cache.set(BANNER_CACHE_KEY, banner, timeout=None)
    return banner


def invalidate_banner():
    cache.delete(BANNER_CACHE_KEY)
