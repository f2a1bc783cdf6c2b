"""The page cache: what is stored, what is served from the read path, and invalidation.

These call the real WSGI stack in-process (the read path in site_config/wsgi.py plus
Django), since Django's test Client would bypass the read path. The two-worker test with
a live gunicorn is in tests/production/test_page_cache_live.py.
"""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template import engines
from django.urls import path
from django.utils import timezone
from taggit.models import Tag

from articles.models import Reference
from protocols.seed import seed_protocols
from site_config import page_cache
from site_config.page_cache import bump_content_version, cache_public_page
from tests.articles.factories import make_article, make_author, make_editor
from tests.helpers import log_in_staff
from tests.site_config.wsgi_client import PageCacheClient

pytestmark = pytest.mark.django_db

SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "cross-origin-opener-policy",
    "x-frame-options",
)


@cache_public_page
def form_view(request):
    """A public page with a form: its CSRF token must never be shared."""
    return HttpResponse(f'<form method="post"><input name="csrfmiddlewaretoken" value="{get_token(request)}"></form>')


@cache_public_page
def nonce_view(request):
    template = engines["django"].from_string('<script nonce="{{ request.csp_nonce }}">1</script>')
    return HttpResponse(template.render({}, request))


@cache_public_page
def counter_view(request):
    return HttpResponse(f"query={request.GET.urlencode()}")


urlpatterns = [
    path("t/form/", form_view),
    path("t/nonce/", nonce_view),
    path("t/counter/", counter_view),
]


@pytest.fixture
def wsgi():
    return PageCacheClient()


@pytest.fixture
def test_urls(settings):
    """The test views above plus the site's own URLs, for this test only."""
    from site_config.urls import urlpatterns as site_urls

    settings.ROOT_URLCONF = __name__
    urlpatterns[3:] = site_urls
    yield
    del urlpatterns[3:]


def publish(django_capture_on_commit_callbacks, **fields):
    with django_capture_on_commit_callbacks(execute=True):
        return make_article(**fields)


def test_second_anonymous_request_is_served_by_the_read_path_with_every_header(wsgi):
    """A hit skips Django entirely and still carries the security headers stored with the page."""
    make_article(title="Cached words")
    first = wsgi.get("/")
    assert first.status == 200 and first.from_django
    second = wsgi.get("/")
    assert second.status == 200 and not second.from_django
    assert second.body == first.body
    assert "Cached words" in second.text
    for name in SECURITY_HEADERS:
        assert second.headers[name] == first.headers[name], name
    assert "'unsafe-inline'" not in second.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    assert second.headers["x-frame-options"] == "DENY"
    assert second.headers["cache-control"] == "public, max-age=60, s-maxage=60"
    assert second.headers["etag"] == first.headers["etag"]
    assert "Cookie" in second.headers["vary"]
    assert "set-cookie" not in second.headers
    assert int(second.headers["content-length"]) == len(second.body)


def test_publishing_is_visible_on_the_next_request(wsgi, django_capture_on_commit_callbacks):
    """A cached home page is replaced by Django's on the very next request after a publish."""
    publish(django_capture_on_commit_callbacks, title="First story")
    wsgi.get("/")
    assert not wsgi.get("/").from_django
    publish(django_capture_on_commit_callbacks, title="Breaking second story")
    after = wsgi.get("/")
    assert after.from_django
    assert "Breaking second story" in after.text


@pytest.mark.parametrize("change", ["edit", "unpublish", "delete", "retag"])
def test_every_kind_of_change_invalidates(wsgi, django_capture_on_commit_callbacks, change):
    """An edit, unpublish, delete or retag of an article makes its cached page stale at once."""
    article = publish(django_capture_on_commit_callbacks, title="Original title", tags=["sleep"])
    url = article.get_absolute_url()
    assert wsgi.get(url).status == 200
    assert not wsgi.get(url).from_django
    with django_capture_on_commit_callbacks(execute=True):
        if change == "edit":
            article.title = "Edited title"
            article.save()
        elif change == "unpublish":
            article.status = article.Status.DRAFT
            article.save()
        elif change == "delete":
            article.delete()
        else:
            article.tags.set(["magnesium"])
    result = wsgi.get(url)
    assert result.from_django
    if change == "edit":
        assert "Edited title" in result.text
    elif change == "retag":
        assert "magnesium" in result.text.lower()
    else:
        assert result.status == 404


def test_conditional_get_answers_304_from_the_read_path(wsgi):
    """A matching If-None-Match gets an empty 304 from the read path, a stale ETag the page."""
    make_article()
    etag = wsgi.get("/").headers["etag"]
    result = wsgi.get("/", headers={"If-None-Match": etag})
    assert result.status == 304 and not result.from_django
    assert result.body == b""
    assert result.headers["etag"] == etag
    assert result.headers["cache-control"].startswith("public")
    changed = wsgi.get("/", headers={"If-None-Match": '"something-else"'})
    assert changed.status == 200


def test_conditional_get_on_a_miss_is_also_answered_by_django(wsgi):
    """After a version bump the same ETag still gets a 304, from Django this time."""
    make_article()
    etag = wsgi.get("/").headers["etag"]
    bump_content_version()  # same content, new version: the next request misses
    result = wsgi.get("/", headers={"If-None-Match": etag})
    assert result.from_django and result.status == 304


def test_head_is_served_without_a_body(wsgi):
    """HEAD on a cached page is answered by the read path with headers and no body."""
    wsgi.get("/")
    result = wsgi.get("/", method="HEAD")
    assert result.status == 200 and not result.from_django and result.body == b""
    assert int(result.headers["content-length"]) > 0


def test_logged_in_readers_always_get_fresh_private_pages(wsgi, client):
    """A logged-in reader's pages come from Django, are private, and are never stored for others."""
    make_article(title="Old news")
    log_in_staff(client, make_editor())
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    result = wsgi.get("/", headers={"Cookie": cookie})
    assert result.from_django
    assert result.headers["cache-control"] == "private, no-cache"
    assert wsgi.get("/", headers={"Cookie": cookie}).from_django
    # What the logged-in reader saw was not stored for anyone: the next anonymous request misses.
    assert wsgi.get("/").from_django
    assert not wsgi.get("/").from_django
    assert wsgi.get("/", headers={"Cookie": cookie}).from_django


def test_drafts_are_never_cached_and_editors_preview_them_fresh(wsgi, client):
    """A draft's 404 is never stored; an editor's private preview never reaches the public."""
    draft = make_article(published=False, title="Secret draft")
    url = draft.get_absolute_url()
    assert wsgi.get(url).status == 404
    assert wsgi.get(url).from_django  # a 404 is never stored
    log_in_staff(client, make_editor())
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    preview = wsgi.get(url, headers={"Cookie": cookie})
    assert preview.status == 200 and "Secret draft" in preview.text
    assert "no-cache" in preview.headers["cache-control"] and "private" in preview.headers["cache-control"]
    # Still a 404 for the public afterwards: the preview was not stored.
    assert wsgi.get(url).status == 404


def _token(result):
    return result.text.split('value="')[1].split('"')[0]


def _cookie_secret(result):
    return result.headers["set-cookie"].split("csrftoken=")[1].split(";")[0]


def test_a_page_that_uses_its_csrf_token_is_never_stored(wsgi, test_urls):
    """A CSRF token is one visitor's: a page carrying one always comes from Django, private."""
    results = [wsgi.get("/t/form/") for _ in range(3)]
    assert all(result.from_django for result in results)
    for result in results:
        assert result.headers["cache-control"] == "private, no-cache"
        assert "etag" not in result.headers
    assert len({_cookie_secret(result) for result in results}) == 3
    assert len({_token(result) for result in results}) == 3
    # And each token works with its own cookie, as Django issued them.
    page = results[-1]
    ok = wsgi.request(
        "/t/form/", method="POST", headers={"Cookie": f"csrftoken={_cookie_secret(page)}", "X-CSRFToken": _token(page)}
    )
    assert ok.status == 200


def test_a_csp_nonce_is_fresh_on_every_cached_response(wsgi, test_urls):
    """Every response of a cached page carries its own CSP nonce, in the header and the body alike."""
    first = wsgi.get("/t/nonce/")
    second = wsgi.get("/t/nonce/")
    third = wsgi.get("/t/nonce/")
    assert first.from_django and not second.from_django and not third.from_django
    nonces = []
    for result in (first, second, third):
        nonce = result.text.split('nonce="')[1].split('"')[0]
        assert f"'nonce-{nonce}'" in result.headers["content-security-policy"]
        nonces.append(nonce)
    assert len(set(nonces)) == 3
    assert "placeholder" not in second.text


def test_query_strings_are_normalised_and_distinguish_pages(wsgi, test_urls):
    """Reordered parameters share one stored page; different values get their own."""
    assert wsgi.get("/t/counter/?b=2&a=1").from_django
    reordered = wsgi.get("/t/counter/?a=1&b=2")
    assert not reordered.from_django and reordered.text == "query=b=2&a=1"
    assert wsgi.get("/t/counter/?a=2").from_django


def test_hosts_and_schemes_do_not_share_pages(wsgi, settings):
    """A page stored for one host or scheme is not served for another."""
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    wsgi.get("/")
    assert wsgi.get("/", host="other.example").from_django
    assert wsgi.get("/", scheme="https").from_django


def test_session_and_messages_cookies_skip_the_read_path(wsgi):
    """Session and messages cookies bypass the stored pages; other cookies do not."""
    wsgi.get("/")
    assert wsgi.get("/", headers={"Cookie": "sessionid=abc"}).from_django
    assert wsgi.get("/", headers={"Cookie": "theme=dark; messages=xyz"}).from_django
    assert not wsgi.get("/", headers={"Cookie": "theme=dark"}).from_django


def test_posts_always_go_to_django(wsgi, test_urls):
    """A POST to a cached URL is never answered from the cache."""
    wsgi.get("/t/counter/")
    assert wsgi.request("/t/counter/", method="POST").from_django


def test_bump_always_changes_the_version_even_when_the_cache_was_cleared():
    """Every bump gives a new content version, and a cleared cache starts a new one."""
    bump_content_version()
    first = page_cache.current_version()
    bump_content_version()
    assert page_cache.current_version() != first
    cache.clear()
    assert page_cache.current_version() is None
    assert page_cache.current_version(create=True) is not None


def test_scheduled_article_appears_when_its_time_comes(wsgi, django_capture_on_commit_callbacks):
    """No save happens at published_at: the stored pages expire at that moment instead."""
    publish(django_capture_on_commit_callbacks, title="Already out")
    at = timezone.now() + timedelta(minutes=10)
    publish(django_capture_on_commit_callbacks, title="Scheduled story", published_at=at)
    before = wsgi.get("/")
    assert "Scheduled story" not in before.text
    assert not wsgi.get("/").from_django
    with time_machine.travel(at - timedelta(seconds=2), tick=False):
        assert not wsgi.get("/").from_django  # still before: served from the cache
    with time_machine.travel(at + timedelta(seconds=1), tick=False):
        after = wsgi.get("/")
        assert after.from_django
        assert "Scheduled story" in after.text


def test_the_boundary_is_the_soonest_future_publication():
    """The publish boundary of a version is the soonest scheduled article's time."""
    version = page_cache.current_version(create=True)
    assert page_cache.next_publish_boundary(version) is None
    soon = timezone.now() + timedelta(hours=1)
    make_article(published_at=soon)
    make_article(published_at=soon + timedelta(hours=1))
    bump_content_version()
    version = page_cache.current_version()
    assert page_cache.next_publish_boundary(version) == pytest.approx(soon.timestamp())


def test_a_cache_outage_falls_back_to_django(wsgi, monkeypatch):
    """With the cache unreachable pages still render from Django, and a bump does not raise."""

    def broken():
        raise ConnectionError("cache down")

    monkeypatch.setattr(page_cache.store, "cache", broken)
    result = wsgi.get("/")
    assert result.status == 200 and result.from_django
    bump_content_version()  # logs, does not raise


def _rename_author(article):
    author = make_author()
    article.author = author
    article.save()
    author.name = "Renamed"
    author.save()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda a: Reference.objects.create(article=a, title="Source", url="https://example.com"), id="ref"
        ),
        pytest.param(lambda a: a.references.all().delete(), id="ref-delete"),
        pytest.param(_rename_author, id="author"),
        pytest.param(lambda a: Tag.objects.get(name="sleep").save(), id="tag"),
        pytest.param(lambda a: a.tags.add("new-tag"), id="tags-add"),
        pytest.param(lambda a: a.tags.clear(), id="tags-clear"),
        pytest.param(lambda a: seed_protocols(), id="protocol"),
    ],
)
def test_every_content_model_bumps_the_version_on_commit(django_capture_on_commit_callbacks, change):
    """Each content change bumps the version only once its transaction commits."""
    article = make_article(tags=["sleep"], references=[("Old", "https://example.org")])
    before = page_cache.current_version(create=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        change(article)
    assert page_cache.current_version() == before, "bumped before the commit"
    for callback in callbacks:
        callback()
    assert page_cache.current_version() != before


def test_a_rolled_back_change_bumps_nothing(django_capture_on_commit_callbacks):
    """A rolled-back change leaves the content version as it was."""
    before = page_cache.current_version(create=True)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        make_article()
        raise RuntimeError("rollback")
    assert page_cache.current_version() == before


def test_gunicorns_entry_point_is_the_read_path_around_django():
    """The WSGI application gunicorn loads is the page cache's read path wrapping Django."""
    from site_config import wsgi

    assert isinstance(wsgi.application, page_cache.PageCacheWSGI)
    assert wsgi.application.application is wsgi.django_application


def test_behind_a_tls_proxy_the_forwarded_scheme_is_part_of_the_key(wsgi, settings):
    """An https page (X-Forwarded-Proto from the proxy) is never served for plain http."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    secure = {"X-Forwarded-Proto": "https"}
    first = wsgi.get("/", headers=secure)
    assert 'href="https://testserver/"' in first.text  # the canonical link names the scheme
    assert not wsgi.get("/", headers=secure).from_django
    plain = wsgi.get("/", headers={"X-Forwarded-Proto": "http"})
    assert plain.from_django and 'href="http://testserver/"' in plain.text


def test_the_page_cache_is_off_in_development(settings):
    """With DEBUG on, an edited template shows on the next reload: nothing is cached."""
    from django.core.exceptions import MiddlewareNotUsed

    settings.DEBUG = True
    assert not page_cache.page_cache_enabled()
    with pytest.raises(MiddlewareNotUsed):
        page_cache.PageCacheMiddleware(lambda request: None)
    settings.PAGE_CACHE_ENABLED = True
    assert page_cache.page_cache_enabled()


def test_the_real_protocol_page_with_its_signup_form_is_an_ordinary_public_page(wsgi):
    """The signup form carries no CSRF token: the page is shared from the cache, with no cookie."""
    seed_protocols()
    url = "/protocols/sleep-protocol/"
    first = wsgi.get(url)
    hits = [wsgi.get(url) for _ in range(2)]
    assert first.from_django and not any(hit.from_django for hit in hits)
    for result in (first, *hits):
        assert result.status == 200
        assert result.headers["cache-control"] == "public, max-age=60, s-maxage=60"
        assert "set-cookie" not in result.headers
        assert "csrfmiddlewaretoken" not in result.text
        assert 'name="email"' in result.text
        assert result.body == first.body


def test_a_signup_from_the_cached_page_works_and_a_cross_site_one_is_refused(wsgi, django_capture_on_commit_callbacks):
    """Posted from our own page (as a browser says in Sec-Fetch-Site) it signs up; from
    another site it gets the 403 page and stores nothing."""
    from protocols.models import Signup

    seed_protocols()
    url = "/protocols/sleep-protocol/"
    wsgi.get(url)
    assert not wsgi.get(url).from_django
    form = "email=reader%40example.org&consent=on&website="
    form_headers = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(form))}
    refused = wsgi.request(url, method="POST", body=form, headers={**form_headers, "Sec-Fetch-Site": "cross-site"})
    assert refused.status == 403 and "sent from another site" in refused.text
    assert not Signup.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        ok = wsgi.request(
            url,
            method="POST",
            body=form,
            headers={**form_headers, "Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
        )
    assert ok.status == 302
    assert Signup.objects.get().email == "reader@example.org"


def test_cached_search_results_follow_a_reindex_even_without_a_model_signal(wsgi, django_capture_on_commit_callbacks):
    """The search page is cached, and a reindex alone (no model signal) makes it stale on commit."""
    from articles import search
    from articles.models import Article

    article = publish(django_capture_on_commit_callbacks, title="Magnesium basics")
    wsgi.get("/search/?q=zinc")
    cached = wsgi.get("/search/?q=zinc")
    assert not cached.from_django and "Magnesium basics" not in cached.text
    with django_capture_on_commit_callbacks(execute=True):
        # update() sends no signal: only the search index's own on-commit work bumps the version.
        Article.objects.filter(pk=article.pk).update(title="Zinc basics")
        search.reindex_on_commit([article.pk])
    fresh = wsgi.get("/search/?q=zinc")
    assert fresh.from_django
    assert "Zinc basics" in fresh.text
