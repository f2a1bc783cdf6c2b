"""Tracking parameters on shared links (fbclid, utm_*...) do not bypass the page cache.

The page served for ``/?fbclid=x&utm_source=y`` is the page for ``/``: one cache entry,
served by the read path, and its canonical link never carries them.
"""

import pytest
from django.http import HttpResponse
from django.urls import path

from site_config import page_cache
from site_config.page_cache import cache_public_page, without_tracking
from tests.articles.factories import make_article
from tests.site_config.wsgi_client import PageCacheClient

pytestmark = pytest.mark.django_db


@cache_public_page
def echo_view(request):
    return HttpResponse(f"query={request.GET.urlencode()} full={request.get_full_path()}")


urlpatterns = [path("t/echo/", echo_view)]


@pytest.fixture
def wsgi():
    return PageCacheClient()


@pytest.fixture
def stored_keys(monkeypatch):
    """The keys of every page the middleware stores."""
    keys = []
    cache = page_cache.store.cache()
    original = cache.set

    def spy(key, value, *args, **kwargs):
        if key.startswith("page-cache:page:"):
            keys.append(key)
        return original(key, value, *args, **kwargs)

    monkeypatch.setattr(cache, "set", spy)
    return keys


def canonical(result):
    return result.text.split('<link rel="canonical" href="')[1].split('"')[0]


def test_a_shared_link_is_served_the_stored_page_without_its_tracking_parameters(wsgi, stored_keys):
    """Links with fbclid or utm_* get the one stored page, whose canonical URL has no tracking."""
    make_article(title="Shared story")
    plain = wsgi.get("/")
    tracked = wsgi.get("/?fbclid=IwAR0abc&utm_source=facebook&utm_medium=social")
    other_click = wsgi.get("/?fbclid=IwAR1xyz")
    assert plain.from_django
    assert not tracked.from_django and not other_click.from_django
    assert tracked.body == plain.body == other_click.body
    assert canonical(tracked) == "http://testserver/"
    assert len(stored_keys) == 1


def test_a_first_visit_through_a_shared_link_stores_the_plain_page(wsgi, stored_keys):
    """The page rendered for the tracked link is stored as the page for ``/``."""
    make_article(title="Shared story")
    tracked = wsgi.get("/?gclid=Cj0KCQ&utm_campaign=launch")
    assert tracked.from_django
    assert canonical(tracked) == "http://testserver/"
    assert "gclid" not in tracked.text and "utm_" not in tracked.text
    plain = wsgi.get("/")
    assert not plain.from_django and plain.body == tracked.body
    assert len(stored_keys) == 1


def test_other_query_parameters_still_make_distinct_pages(wsgi, settings, stored_keys):
    """Only tracking parameters are dropped: the view never sees them, other parameters still make pages."""
    settings.ROOT_URLCONF = __name__
    first = wsgi.get("/t/echo/?page=2&fbclid=abc")
    assert first.from_django
    # The view never saw the tracking parameter.
    assert first.text == "query=page=2 full=/t/echo/?page=2"
    again = wsgi.get("/t/echo/?utm_source=x&page=2")
    assert not again.from_django and again.body == first.body
    assert wsgi.get("/t/echo/?page=3&fbclid=abc").from_django
    assert wsgi.get("/t/echo/").from_django
    assert len(stored_keys) == 3


def test_search_keeps_its_words_and_drops_the_tracking(wsgi, django_capture_on_commit_callbacks):
    """A search link with newsletter tracking is served the plain search's stored page."""
    with django_capture_on_commit_callbacks(execute=True):  # indexed on commit
        make_article(title="Magnesium and sleep")
    plain = wsgi.get("/search/?q=magnesium")
    tracked = wsgi.get("/search/?utm_source=newsletter&q=magnesium&mc_cid=123&mc_eid=456")
    assert not tracked.from_django and tracked.body == plain.body
    assert canonical(tracked) == "http://testserver/search/?q=magnesium"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ""),
        ("page=2", "page=2"),
        ("fbclid=x", ""),
        ("page=2&fbclid=x", "page=2"),
        ("UTM_Source=x&q=a+b&utm_medium=y", "q=a+b"),
        ("q=%C3%A9t%C3%A9&_ga=1.2&_gl=3&gclid=4&dclid=5&msclkid=6&yclid=7&igshid=8", "q=%C3%A9t%C3%A9"),
        ("fbclidx=1&xutm_source=2&q=fbclid", "fbclidx=1&xutm_source=2&q=fbclid"),
        ("q=a&q=b&fbclid=", "q=a&q=b"),
    ],
)
def test_which_parameters_are_tracking(query, expected):
    """without_tracking() drops exactly the known tracking parameters and keeps the rest in order."""
    assert without_tracking(query) == expected


def test_a_query_string_without_tracking_is_left_exactly_as_it_came():
    """Not re-encoded: the key of every other page is what it was."""
    for query in ("q=a%20b", "a=1&&b", "x=%ZZ", "q=caf%E9"):
        assert without_tracking(query) is query


def test_the_key_ignores_tracking_parameters_and_their_order():
    """The page key is the same with or without tracking parameters, and differs for real ones."""
    key = page_cache.page_key("v1", "https", "example.org", "", "/", "")
    assert page_cache.page_key("v1", "https", "example.org", "", "/", "fbclid=a&utm_source=b") == key
    assert page_cache.page_key("v1", "https", "example.org", "", "/", "page=2&fbclid=a") != key
