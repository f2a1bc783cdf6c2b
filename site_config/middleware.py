"""Turn a database outage into the static 503 page, quickly and without the database."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

from .views import render_error_page

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """A view that cannot reach the database answers 503 with the site's static page.

    The page is rendered without a request context (no context processors), so showing it
    touches neither the database nor the session. Other errors keep the 500 handler.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("database unavailable: %s %s: %s", request.method, request.path, exception)
        response = HttpResponse(render_error_page("503.html"), status=503)
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response
