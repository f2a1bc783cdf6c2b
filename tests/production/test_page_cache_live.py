"""The page cache under a real gunicorn with two workers sharing one cache.

Runs with the file cache by default and again in CI with REDIS_URL (several app servers).
"""

import json
import os
import urllib.parse
from pathlib import Path

import pytest

from benchmarks.server import gunicorn, http_get
from tests.helpers import clock_ahead_env

LOGIN_AS_EDITOR = """
from django.contrib.auth import get_user_model
from django.test import Client
from tests.helpers import log_in_staff
user, _ = get_user_model().objects.get_or_create(
    username="live-editor", defaults={"is_staff": True, "is_superuser": True}
)
client = log_in_staff(Client(), user)
print(client.cookies["sessionid"].value)
"""


def fetch_many(server, path, count=12, **kwargs):
    """Separate connections: gunicorn's sync workers take them in turn, so both workers answer."""
    return [server.get(path, **kwargs) for _ in range(count)]


def warm(server, path):
    server.get(path)
    status, headers, body = server.get(path)
    assert status == 200
    assert headers.get("x-page-cache") == "hit", f"{path} was not served from the page cache"
    return headers, body


def test_cached_pages_carry_every_security_and_cache_header(server):
    """A page served from the cache keeps every security header, public caching and an ETag, and sets no cookie."""
    headers, _ = warm(server, "/")
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "public, max-age=60, s-maxage=60"
    assert headers["etag"].startswith('"')
    assert "set-cookie" not in headers


def test_a_publish_is_visible_on_the_very_next_request_on_every_worker(site, server):
    """A publish, edit, retag, unpublish or delete from another process shows on the next request to either worker."""
    for path in ("/", "/articles/", "/tags/magnesium/", "/feed/"):
        warm(server, path)
    site.edit(
        'a = Article.objects.create(title="Live breaking story", slug="live-breaking-story", summary="New.",'
        ' body="Body.", status="published", published_at=timezone.now() - timedelta(minutes=1));'
        ' a.tags.set(["magnesium"])'
    )
    for path in ("/", "/articles/", "/tags/magnesium/", "/feed/"):
        for status, _, body in fetch_many(server, path, count=6):
            assert status == 200
            assert b"Live breaking story" in body, path
    warm(server, "/articles/live-breaking-story/")

    site.edit('a = Article.objects.get(slug="live-breaking-story"); a.title = "Live story, corrected"; a.save()')
    for status, _, body in fetch_many(server, "/articles/live-breaking-story/"):
        assert status == 200 and b"Live story, corrected" in body

    site.edit('a = Article.objects.get(slug="live-breaking-story"); a.tags.set(["zinc-news"])')
    for _, _, body in fetch_many(server, "/articles/live-breaking-story/", count=4):
        assert b"zinc-news" in body

    site.edit('a = Article.objects.get(slug="live-breaking-story"); a.status = "draft"; a.save()')
    assert {status for status, _, _ in fetch_many(server, "/articles/live-breaking-story/")} == {404}
    for _, _, body in fetch_many(server, "/", count=4):
        assert b"Live story, corrected" not in body

    site.edit('a = Article.objects.get(slug="live-breaking-story"); a.status = "published"; a.save()')
    assert {status for status, _, _ in fetch_many(server, "/articles/live-breaking-story/")} == {200}
    site.edit('Article.objects.get(slug="live-breaking-story").delete()')
    assert {status for status, _, _ in fetch_many(server, "/articles/live-breaking-story/")} == {404}


def test_a_change_to_the_announced_protocol_is_visible_at_once_on_every_worker(site, server):
    """The banner on cached pages follows the announced protocol on both workers: a new
    one announced, then none, then the old one back."""
    banner = b"Our newest protocol, the"
    for path in ("/", "/articles/", "/tags/"):
        warm(server, path)
    site.edit(
        "from protocols.models import Protocol;"
        ' Protocol.objects.create(name="Focus Protocol", slug="focus-protocol", tagline="Focus.",'
        ' description="Emails.", status="open", announce=True, launched_at=timezone.now(),'
        ' consent_text="I agree.")'
    )
    for path in ("/", "/articles/", "/tags/"):
        for status, _, body in fetch_many(server, path, count=4):
            assert status == 200 and b"the Focus Protocol is now available" in body, path
    site.edit(
        "from protocols.models import Protocol\n"
        "for protocol in Protocol.objects.all():\n"
        "    protocol.announce = False\n"
        "    protocol.save()\n"
    )
    for _, _, body in fetch_many(server, "/", count=4):
        assert banner not in body
    site.edit(
        "from protocols.models import Protocol;"
        ' p = Protocol.objects.get(slug="sleep-protocol"); p.announce = True; p.save()'
    )
    for _, _, body in fetch_many(server, "/", count=4):
        assert b"the Sleep Protocol is now available" in body


def test_conditional_get_answers_304(server):
    """A cached page answers a matching If-None-Match with an empty 304 from the cache, a stale one with the page."""
    headers, _ = warm(server, "/articles/")
    status, not_modified, body = server.get("/articles/", headers={"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""
    assert not_modified["etag"] == headers["etag"]
    assert not_modified.get("x-page-cache") == "hit"
    status, _, _ = server.get("/articles/", headers={"If-None-Match": '"stale"'})
    assert status == 200


def test_the_signup_page_is_shared_from_the_cache_and_its_form_works(site, server):
    """The protocol page with its form is served from the cache to everyone (no token, no
    cookie); a post from our own page signs up, one from another site gets the 403 page."""
    path = site.edit(
        "from protocols.models import Protocol;"
        " print(Protocol.objects.filter(status='open').first().get_absolute_url())"
    ).strip()
    _, body = warm(server, path)
    for status, headers, answer in fetch_many(server, path, count=4):
        assert status == 200 and answer == body
        assert headers.get("x-page-cache") == "hit"
        assert headers["cache-control"] == "public, max-age=60, s-maxage=60"
        assert "set-cookie" not in headers
    assert b'name="email"' in body and b"csrfmiddlewaretoken" not in body
    form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
    form = urllib.parse.urlencode({"email": "live@example.com", "consent": "on", "website": ""})
    status, response_headers, _ = server.get(
        path,
        method="POST",
        body=form,
        headers={**form_headers, "Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin"},
    )
    assert status == 302, status
    assert response_headers["location"].endswith("/thanks/")
    status, _, refused = server.get(
        path,
        method="POST",
        body=urllib.parse.urlencode({"email": "x@example.com", "consent": "on", "website": ""}),
        headers={**form_headers, "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert status == 403 and b"sent from another site" in refused
    stored = site.edit(
        "from protocols.models import Signup; print(sorted(Signup.objects.values_list('email', flat=True)))"
    )
    assert stored.strip().splitlines()[-1] == "['live@example.com']"


def test_logged_in_staff_always_get_fresh_private_pages(site, server):
    """Staff get private, uncached pages and their drafts; the public still gets a 404 for the draft."""
    warm(server, "/")
    session = site.edit(LOGIN_AS_EDITOR).strip().splitlines()[-1]
    cookie = {"Cookie": f"sessionid={session}"}
    status, headers, _ = server.get("/", headers=cookie)
    assert status == 200 and "x-page-cache" not in headers
    assert headers["cache-control"] == "private, no-cache"
    site.edit(
        'Article.objects.create(title="Staff sees this draft", slug="staff-draft", summary="s", body="b",'
        ' status="draft")'
    )
    status, headers, body = server.get("/articles/staff-draft/", headers=cookie)
    assert status == 200 and b"Staff sees this draft" in body
    assert "no-store" in headers["cache-control"] and "x-page-cache" not in headers
    # Drafts never reach the cache: the public still gets a 404, on every worker.
    assert {status for status, _, _ in fetch_many(server, "/articles/staff-draft/", count=6)} == {404}


def test_scheduled_article_becomes_visible_at_its_time_without_a_save(site, server):
    """A page stored before a scheduled article's time is not served after it: the same site
    20 minutes later (a second gunicorn on the same database and cache, its clock moved with
    libfaketime) shows the article, although the stored page would otherwise live 30 minutes."""
    with gunicorn(dict(site.env, **clock_ahead_env("+20m")), workers=1) as later:
        site.edit(
            'Article.objects.create(title="Scheduled live story", slug="scheduled-live", summary="s", body="b",'
            ' status="published", published_at=timezone.now() + timedelta(minutes=10))'
        )
        try:
            _, body = warm(server, "/")
            assert b"Scheduled live story" not in body
            status, headers, body = later.get("/")
            assert status == 200 and b"Scheduled live story" in body
            assert headers.get("x-page-cache") != "hit"
        finally:
            # The later server stored pages that are in the future for the others: a save
            # moves the content version past them.
            site.edit('Article.objects.filter(slug="scheduled-live").delete()')


def test_hashed_static_files_are_cached_for_a_year(site, server):
    """whitenoise marks hashed names immutable (its max-age is ten years: at least the year asked for)."""
    manifest = Path(site.env["DJANGO_VAR_DIR"]) / "staticfiles" / "staticfiles.json"
    hashed = "/static/" + json.loads(manifest.read_text())["paths"]["css/site.css"]
    status, headers, _ = http_get(server.port, hashed)
    assert status == 200
    directives = [d.strip() for d in headers["cache-control"].split(",")]
    assert "immutable" in directives and "public" in directives
    max_age = int(next(d for d in directives if d.startswith("max-age=")).split("=")[1])
    assert max_age >= 31536000
    _, _, page = server.get("/")
    assert hashed.encode() in page


def test_healthz_is_never_cached(server):
    """/healthz is answered afresh every time, never from the page cache."""
    for status, headers, _ in fetch_many(server, "/healthz", count=3):
        assert status == 200 and "x-page-cache" not in headers


def test_without_redis_url_the_pages_live_in_the_file_cache(site, server):
    """In the default run the server shares its pages between workers through the file cache
    in its DJANGO_VAR_DIR (the production default without REDIS_URL)."""
    if os.environ.get("REDIS_URL"):
        pytest.skip("Redis run: REDIS_URL is set")
    cache_dir = Path(site.env["DJANGO_VAR_DIR"]) / "cache"
    before = set(cache_dir.glob("*.djcache"))
    site.edit("from site_config.page_cache import bump_content_version; bump_content_version()")
    warm(server, "/tags/")
    assert set(cache_dir.glob("*.djcache")) - before


def test_with_redis_url_the_pages_live_in_redis(server):
    """In the Redis run (CI), the server really shares its pages through Redis."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("file-cache run: REDIS_URL is not set")
    import redis

    warm(server, "/tags/")
    keys = redis.Redis.from_url(url).keys("*page-cache:*")
    assert any(b"page-cache:version" in key for key in keys)
    assert any(b"page-cache:page:" in key for key in keys)
