from django.urls import path, register_converter

from site_config.page_cache import cache_public_page

from . import feeds, views


class UnicodeSlugConverter:
    """Tag slugs keep letters beyond ASCII ("café-crème"), as django-taggit makes them."""

    regex = r"[-\w]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(UnicodeSlugConverter, "tag_slug")

app_name = "articles"
urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("articles/", views.ArticleListView.as_view(), name="list"),
    path("articles/<slug:slug>/", views.article_detail, name="detail"),
    path("authors/<slug:slug>/", views.AuthorDetailView.as_view(), name="author"),
    path("reviewers/<slug:slug>/", views.ReviewerDetailView.as_view(), name="reviewer"),
    path("tags/", views.TagListView.as_view(), name="tag_list"),
    path("tags/<tag_slug:slug>/", views.TagDetailView.as_view(), name="tag"),
    path("search/", views.search, name="search"),
    path("feed/", cache_public_page(feeds.LatestArticlesFeed()), name="feed"),
    path("feed/atom/", cache_public_page(feeds.LatestArticlesAtomFeed()), name="feed_atom"),
]
