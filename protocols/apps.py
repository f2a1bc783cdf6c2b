from django.apps import AppConfig


class ProtocolsConfig(AppConfig):
    name = "protocols"
    verbose_name = "Protocols"

    def ready(self):
        from site_config import page_cache

        from . import signals  # noqa: F401  (connects the receivers)
        from .models import Protocol

        # Protocol pages, the list and the banner on every page. Registered after
        # signals.py's receiver, which therefore queues the banner's refresh on commit
        # before the page cache queues its bump: no page is stored with the old banner.
        page_cache.register(Protocol)
