from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.urls import reverse

from .models import Protocol


class ProtocolSitemap(Sitemap):
    """The protocols page, then every protocol's page."""

    changefreq = "weekly"
    priority = 0.6

    def items(self):
        return ["protocols:list", *Protocol.objects.order_by("pk")]

    def location(self, item):
        return reverse(item) if isinstance(item, str) else item.get_absolute_url()

    def lastmod(self, item):
        if isinstance(item, str):
            return Protocol.objects.aggregate(latest=Max("updated_at"))["latest"]
        return item.updated_at
