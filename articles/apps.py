from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles"

    def ready(self):
        from . import (
            review_signals,  # noqa: F401 (reviewers and settings clear the page cache)
            search_signals,  # noqa: F401 (keeps the search index in step)
            signals,  # noqa: F401 (connects the receivers)
        )
