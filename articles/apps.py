from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles"

    def ready(self):
        from . import signals  # noqa: F401 (connects the receivers)
        from .search import signals as search_signals  # noqa: F401 (keeps the search index in step)
