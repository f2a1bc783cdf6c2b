"""The articles app's models; import them from here (`from articles.models import Article`)."""

from .articles import (
    Article,
    ArticleQuerySet,
    Author,
    HistoricalArticleSnapshot,
    Reference,
    TaggedArticle,
    tags_by_name,
    tags_in_use,
)
from .editorial import EditorialSettings
from .images import Image
from .reviews import Review, Reviewer, ReviewReminder

__all__ = [
    "Article",
    "ArticleQuerySet",
    "Author",
    "EditorialSettings",
    "HistoricalArticleSnapshot",
    "Image",
    "Reference",
    "Review",
    "ReviewReminder",
    "Reviewer",
    "TaggedArticle",
    "tags_by_name",
    "tags_in_use",
]
