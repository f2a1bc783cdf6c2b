import json
import logging

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from core.client_ip import get_client_ip
from protocols.ratelimit import hit, parse_rate

logger = logging.getLogger(__name__)
csp_logger = logging.getLogger("site_config.csp")


@never_cache
@require_safe
def healthz(request):
    """200 when the database answers a query, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not healthy"
        logger.warning("healthz: database unavailable: %s", exc)
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


@require_safe
def robots_txt(request):
    sitemap_url = request.build_absolute_uri("/sitemap.xml")
    lines = ["User-agent: *", f"Disallow: /{settings.ADMIN_URL}", f"Sitemap: {sitemap_url}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


def page_not_found(request, exception):
    return HttpResponse(loader.render_to_string("404.html", request=request), status=404)


def render_error_page(template_name):
    """An error page in the site's layout, rendered without context processors, the
    session or the database (any of them may be what failed)."""
    return loader.get_template(template_name).render({"site_name": settings.SITE_NAME})


def server_error(request):
    return HttpResponse(render_error_page("500.html"), status=500)


# The two shapes browsers send: CSP level 2's report-uri (one report in an object) and the
# Reporting API's report-to (a list of reports of several types).
_CSP_REPORT_TYPES = {"application/csp-report", "application/reports+json", "application/json"}
_FIELD_LENGTH = 300  # a logged value is cut after this many characters


def _csp_violations(payload):
    """The violations in a report body, each as a small dict of the fields worth logging."""
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        report = payload["csp-report"]
        yield {
            "document": report.get("document-uri"),
            "directive": report.get("effective-directive") or report.get("violated-directive"),
            "blocked": report.get("blocked-uri"),
            "source": report.get("source-file"),
            "line": report.get("line-number"),
            "disposition": report.get("disposition"),
        }
    elif isinstance(payload, list):
        for report in payload:
            if not isinstance(report, dict) or report.get("type") != "csp-violation":
                continue
            body = report.get("body") if isinstance(report.get("body"), dict) else {}
            yield {
                "document": body.get("documentURL") or report.get("url"),
                "directive": body.get("effectiveDirective"),
                "blocked": body.get("blockedURL"),
                "source": body.get("sourceFile"),
                "line": body.get("lineNumber"),
                "disposition": body.get("disposition"),
            }


@csrf_exempt  # browsers send reports without a cookie or token
@require_POST
def csp_report(request):
    """Log Content-Security-Policy violation reports, one line each; answer 204.

    Anyone can post here, so: known content types only (415), at most CSP_REPORT_MAX_BYTES
    (413), CSP_REPORT_RATE_LIMIT per client address (429), and logged values are cut short.
    """
    if request.content_type not in _CSP_REPORT_TYPES:
        return HttpResponse(status=415)
    limit = settings.CSP_REPORT_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse(status=400)
    if declared > limit:
        return HttpResponse(status=413)
    rate = parse_rate(settings.CSP_REPORT_RATE_LIMIT)
    if rate is not None:
        verdict = hit("csp-report", get_client_ip(request), rate)
        if not verdict.allowed:
            response = HttpResponse(status=429)
            response["Retry-After"] = str(verdict.retry_after_seconds)
            return response
    body = request.read(limit + 1)
    if len(body) > limit:
        return HttpResponse(status=413)
    try:
        payload = json.loads(body)
    except ValueError:
        return HttpResponse(status=400)
    for violation in _csp_violations(payload):
        fields = {key: str(value)[:_FIELD_LENGTH] for key, value in violation.items() if value not in (None, "")}
        csp_logger.warning("csp violation: %s", json.dumps(fields, sort_keys=True))
    return HttpResponse(status=204)
