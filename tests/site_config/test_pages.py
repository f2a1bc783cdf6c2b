"""The pages every other feature stands on: health check, 404, 500, robots, static files."""

import json
import logging
import re
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db.utils import OperationalError
from django.test import Client


@pytest.mark.django_db
def test_healthz_up(client):
    """/healthz answers 200 with JSON saying the database is up, never cached."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"status": "ok", "database": "up"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_down_when_the_database_does_not_answer(client):
    """/healthz answers 503 with "database": "down" when the database fails."""
    with mock.patch("site_config.views.connection.cursor", side_effect=OperationalError("unable to open database")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content)["database"] == "down"


def _assert_site_layout(body):
    assert 'class="site-header"' in body
    assert f'class="site-name" href="/">{django_settings.SITE_NAME}</a>' in body
    assert 'aria-label="Main"' in body
    assert 'action="/search/"' in body and 'name="q"' in body
    assert "Skip to main content" in body and '<main id="main"' in body
    assert "Medical disclaimer" in body


@pytest.mark.django_db
def test_404_page_uses_the_site_layout(client):
    """An unknown address gets the site's own 404 page, in the site layout."""
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "<h1>Page not found</h1>" in body
    _assert_site_layout(body)


@pytest.mark.django_db
def test_503_page_uses_the_site_layout_without_the_database(client, django_assert_num_queries):
    """A database error gives the 503 page in the site's layout, built with no query."""
    failing = mock.patch("articles.views.HomeView.get_queryset", side_effect=OperationalError("connection refused"))
    with failing, django_assert_num_queries(0):
        response = client.get("/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "<h1>Temporarily unavailable</h1>" in body
    _assert_site_layout(body)


@pytest.mark.django_db
def test_home_page_has_the_layout_and_stylesheet(client):
    """The home page is English, links the site stylesheet and has a main landmark."""
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="en">' in body
    assert "/static/css/site" in body
    assert '<main id="main"' in body


@pytest.mark.django_db
def test_500_shows_the_site_page_and_logs_the_traceback(settings, caplog):
    """An unhandled error renders the friendly page, never the traceback, and logs it."""
    settings.ROOT_URLCONF = "tests.site_config.urls_with_error"
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/broken/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "boom" not in body and "Traceback" not in body
    _assert_site_layout(body)
    assert any("boom: secret internals" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_robots_names_the_sitemap(client):
    """robots.txt answers and names the sitemap's full address."""
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()


@pytest.mark.django_db
def test_static_css_and_favicon_are_served(client):
    """/favicon.ico answers, and so does the stylesheet the pages link to (as CSS)."""
    assert client.get("/favicon.ico").status_code == 200
    stylesheet = re.search(r'href="(/static/css/site[^"]*\.css)"', client.get("/").content.decode()).group(1)
    response = client.get(stylesheet)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")


def test_log_lines_are_single_line_json():
    """A logged exception stays one line: log collectors see one event."""
    from site_config.logging import OneLineFormatter

    try:
        raise ValueError("bad\nthing")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("here",), exc_info=True)
        import sys

        record.exc_info = sys.exc_info()
    line = OneLineFormatter().format(record)
    assert "\n" not in line
    event = json.loads(line)
    assert event["message"] == "failed here"
    assert "ValueError" in event["traceback"]
