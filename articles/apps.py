from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles"

    def ready(self):
        from . import (
            search_signals,  # noqa: F401 (keeps the search index in step)
            signals,  # noqa: F401 (connects the receivers)
        )
