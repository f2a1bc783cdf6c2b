"""RSS and Atom feeds of the newest published articles (absolute links come from the request)."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from .models import Article

FEED_SIZE = 20


class LatestArticlesFeed(Feed):
    title = f"{settings.SITE_NAME}: latest articles"
    description = "The newest articles on supplements, nutrition and everyday health."
    # Atom requires an author on the feed or on every entry (RFC 4287, 4.1.1): the
    # publication is the feed's author; entries name their writer when they have one.
    author_name = settings.SITE_NAME

    def link(self):
        return reverse("articles:home")

    def get_feed(self, obj, request):
        feed = super().get_feed(obj, request)
        feed.feed["author_link"] = request.build_absolute_uri(reverse("articles:home"))
        return feed

    def items(self):
        return Article.objects.published().for_listing()[:FEED_SIZE]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.summary

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_author_name(self, item):
        return item.author.name if item.author else None

    def item_categories(self, item):
        return [tag.name for tag in item.tag_list]


class LatestArticlesAtomFeed(LatestArticlesFeed):
    feed_type = Atom1Feed
    subtitle = LatestArticlesFeed.description
