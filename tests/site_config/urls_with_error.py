"""The site's URLs plus one view that fails, to exercise the 500 handler."""

from django.urls import path

from site_config.urls import handler404, handler500  # noqa: F401
from site_config.urls import urlpatterns as site_urlpatterns


def broken_view(request):
    raise RuntimeError("boom: secret internals")


urlpatterns = [path("broken/", broken_view), *site_urlpatterns]
