from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.urls import reverse

from .models import Article, tags_in_use


class ArticleSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self):
        return Article.objects.published().only("slug", "updated_at")

    def lastmod(self, item):
        return item.updated_at


class TagSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        return tags_in_use()

    def location(self, item):
        return reverse("articles:tag", kwargs={"slug": item.slug})


class PageSitemap(Sitemap):
    """The fixed pages: home, all articles, topics. Their lastmod is the newest article change."""

    changefreq = "daily"
    priority = 0.6

    def items(self):
        return ["articles:home", "articles:list", "articles:tag_list"]

    def location(self, item):
        return reverse(item)

    def lastmod(self, item):
        if not hasattr(self, "_latest"):
            self._latest = Article.objects.published().aggregate(latest=Max("updated_at"))["latest"]
        return self._latest
