from django.apps import AppConfig


class SiteConfigConfig(AppConfig):
    name = "site_config"
    verbose_name = "Site"

    def ready(self):
        from . import checks  # noqa: F401 (registers the system checks)
