"""System checks of the site's own settings (`manage.py check --deploy`)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_site_url_is_https(app_configs, **kwargs):
    """Links in emails must not send subscribers' tokens over plain HTTP."""
    if urlsplit(settings.SITE_URL).scheme != "https":
        return [
            Warning(
                f"SITE_URL ({settings.SITE_URL}) does not use https: links in emails would carry "
                "subscribers' tokens over plain HTTP.",
                hint="Set SITE_URL to the site's public https address, e.g. https://www.example.org.",
                id="site_config.W001",
            )
        ]
    return []
