from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles"

    def ready(self):
        from taggit.models import Tag, TaggedItem

        from core.markdown import reserve_ids
        from site_config import page_cache

        from . import signals  # noqa: F401 (connects the receivers)
        from .images import signals as image_signals  # noqa: F401 (a deleted image's files go too)
        from .models import Article, Author, EditorialSettings, Image, Reference, Review, Reviewer, TaggedArticle
        from .search import signals as search_signals  # noqa: F401 (keeps the search index in step)

        # Ids of the article, person and search templates around a Markdown body.
        reserve_ids(
            "toc-title", "tags-title", "references-title", "related-title", "author-title",
            "search-facets-title", "person-articles-title",
        )  # fmt: skip

        # Everything an article page, a list, a tag page, the feeds or the sitemap shows.
        # A scheduled article becomes public at published_at without any save.
        page_cache.register(Article, publish_at="published_at")
        # Image: alt text, captions, credits, focal points and new renditions show on pages.
        for model in (Author, Reference, TaggedArticle, Tag, TaggedItem, Image):
            page_cache.register(model)
        # The medical review: reviewer pages, the "Medically reviewed by" line and the
        # JSON-LD's lastReviewed/reviewedBy, and the disclosure from the editorial settings.
        for model in (Reviewer, Review, EditorialSettings):
            page_cache.register(model)
