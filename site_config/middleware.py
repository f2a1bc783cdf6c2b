"""Turn a database outage into the static 503 page, quickly and without the database; keep
the admin's query strings to what the database accepts."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest

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


class SecurityHeadersMiddleware:
    """Headers Django does not set itself: Permissions-Policy, Cross-Origin-Resource-Policy
    and Reporting-Endpoints (the endpoint the CSP's report-to names). A response that sets
    one of them itself keeps its own."""

    def __init__(self, get_response):
        self.get_response = get_response
        name, url = settings.CSP_REPORT_ENDPOINT
        self.headers = {
            "Permissions-Policy": ", ".join(
                f"{feature}=({' '.join(allow)})" for feature, allow in settings.PERMISSIONS_POLICY.items()
            ),
            "Cross-Origin-Resource-Policy": settings.CROSS_ORIGIN_RESOURCE_POLICY,
            "Reporting-Endpoints": f'{name}="{url}"',
        }

    def __call__(self, request):
        response = self.get_response(request)
        for header, value in self.headers.items():
            response.headers.setdefault(header, value)
        return response


class AdminQueryStringGuardMiddleware:
    """The admin's list filters and search hand query-string values to the database as
    they are, and PostgreSQL refuses a NUL byte in text (a 500). Such a request gets a
    400 with a plain message instead. (Public pages clean their parameters themselves.)"""

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = "/" + settings.ADMIN_URL

    def __call__(self, request):
        if request.path_info.startswith(self.admin_prefix) and any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            return HttpResponseBadRequest(
                "The address contains a NUL character, which no search or filter can use.",
                content_type="text/plain; charset=utf-8",
            )
        # The date hierarchy's year, month and day go to datetime(), which raises
        # OverflowError (not caught by the admin: a 500) for numbers beyond a C int.
        if request.path_info.startswith(self.admin_prefix) and any(
            key.endswith(("__year", "__month", "__day")) and any(len(value.strip()) > 4 for value in values)
            for key, values in request.GET.lists()
        ):
            return HttpResponseBadRequest(
                "The address asks for a date the calendar does not have.", content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)
