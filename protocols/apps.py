from django.apps import AppConfig


class ProtocolsConfig(AppConfig):
    name = "protocols"
    verbose_name = "Protocols"

    def ready(self):
        from core.markdown import reserve_ids
        from site_config import page_cache

        from . import signals  # noqa: F401  (connects the receivers)
        from .models import Protocol

        # Ids of the protocol pages (around the description), the signup form and the charts.
        reserve_ids(
            "signup-heading", "closed-heading", "program-title", "error-summary", "error-summary-title",
            "signup-chart-title", "funnel-chart-title",
        )  # fmt: skip

        # Protocol pages, the list and the banner on every page. Registered after
        # signals.py's receiver, which therefore queues the banner's refresh on commit
        # before the page cache queues its bump: no page is stored with the old banner.
        page_cache.register(Protocol)
