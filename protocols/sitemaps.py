from django.contrib.sitemaps import Sitemap


class ProtocolSitemap(Sitemap):
    """Placeholder: the protocols feature lists protocol pages here."""

    def items(self):
        return []
