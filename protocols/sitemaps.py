from django.contrib.sitemaps import Sitemap

from .models import Protocol


class ProtocolSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6

    def items(self):
        return Protocol.objects.order_by("pk")

    def lastmod(self, obj):
        return obj.updated_at
