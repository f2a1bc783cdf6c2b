from django.apps import AppConfig


class SiteConfigConfig(AppConfig):
    name = "site_config"
    verbose_name = "Site"

    def ready(self):
        from core.markdown import reserve_ids

        from . import checks  # noqa: F401 (registers the system checks)

        # The layout's ids: the skip link's target and the header's search box.
        reserve_ids("main", "site-search-q")
