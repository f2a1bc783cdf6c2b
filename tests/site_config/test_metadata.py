"""Page metadata in the shared layout: Open Graph per page, valid <time datetime>, the current
navigation section."""

import re

import pytest
from django.conf import settings

from tests.articles.factories import make_article
from tests.articles.html_checks import elements
from tests.site_config.pages import public_pages

pytestmark = pytest.mark.django_db

SITE_DESCRIPTION = f"Evidence-minded articles on supplements, nutrition and everyday health from {settings.SITE_NAME}."
# Valid HTML: a date, or a date and time with at most three digits of a second's fraction.
HTML_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$")


def open_graph(page):
    return {
        attrs["property"]: attrs.get("content")
        for tag, attrs in elements(page)
        if tag == "meta" and attrs.get("property", "").startswith("og:")
    }


def test_every_page_has_its_own_open_graph_title_description_url_and_type():
    """og:title, og:description, og:url and og:type on every page; no page but the home page
    borrows the site's name as its title or the site-wide description."""
    seen_titles = {}
    for name, _url, _status, page in public_pages():
        og = open_graph(page)
        for prop in ("og:title", "og:description", "og:url", "og:type", "og:site_name"):
            assert og.get(prop), (name, prop)
        assert og["og:url"].startswith("http://testserver/"), name
        expected_type = {"article": "article", "author page": "profile", "reviewer page": "profile"}.get(
            name, "website"
        )
        assert og["og:type"] == expected_type, name
        if name != "home":
            assert og["og:title"] != settings.SITE_NAME, name
            assert og["og:description"] != SITE_DESCRIPTION, name
        seen_titles.setdefault(og["og:title"], []).append(name)
    shared = {title: names for title, names in seen_titles.items() if len(names) > 1}
    # Two pages with one Open Graph title would be one page to a social network.
    assert not shared, shared


def test_time_elements_carry_valid_html_datetimes():
    """Every <time datetime> on every page is a valid HTML date/time: no microseconds."""
    checked = 0
    for name, _url, _status, page in public_pages():
        for tag, attrs in elements(page):
            if tag == "time":
                assert HTML_DATETIME.match(attrs.get("datetime", "")), (name, attrs)
                checked += 1
    assert checked >= 5  # home, list, article, tag page, search results all show dates


def test_iso_datetime_filter_drops_microseconds_and_keeps_the_offset():
    """The filter used by the templates: seconds precision, the time zone's offset, empty for None."""
    from datetime import UTC, datetime

    from articles.templatetags.article_tags import iso_datetime

    assert iso_datetime(datetime(2026, 12, 2, 2, 30, 15, 123456, tzinfo=UTC)) == "2026-12-02T02:30:15+00:00"
    assert iso_datetime(None) == ""


def test_time_element_is_what_the_date_filters_gave_in_the_site_time_zone(settings):
    """Cards' dates: the same markup as `<time datetime="{{ x|iso_datetime }}">{{ x|date:"j F Y" }}</time>`,
    in the site's time zone (a late-evening UTC time is the next day in Sydney)."""
    from datetime import UTC, datetime

    from django.template import engines
    from django.utils import timezone

    settings.TIME_ZONE = "Australia/Sydney"
    template = engines["django"].from_string(
        "{% load article_tags %}{% time_element value %}"
        '|<time datetime="{{ value|iso_datetime }}">{{ value|date:"j F Y" }}</time>'
    )
    for value in (datetime(2026, 12, 2, 22, 30, 15, 123456, tzinfo=UTC), datetime(2026, 7, 1, 1, 0, tzinfo=UTC)):
        with timezone.override("Australia/Sydney"):
            ours, filters = template.render({"value": value}).split("|")
        assert ours == filters
    assert ours == '<time datetime="2026-07-01T11:00:00+10:00">1 July 2026</time>'
    assert engines["django"].from_string("{% load article_tags %}{% time_element None %}").render({}) == ""


def current_nav_item(client, url):
    page = client.get(url).content.decode()
    nav = re.search(r'<nav class="site-nav".*?</nav>', page, re.S).group(0)
    return re.findall(r'aria-current="page">([^<]+)</a>', nav)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/", []),
        ("/articles/", ["Articles"]),
        ("ARTICLE", ["Articles"]),
        ("/tags/", ["Topics"]),
        ("/tags/sleep/", ["Topics"]),
        ("/search/?q=sleep", []),
        ("/protocols/", ["Protocols"]),
        ("/protocols/sleep-protocol/", ["Protocols"]),
        ("/protocols/sleep-protocol/thanks/", ["Protocols"]),
    ],
)
def test_header_navigation_marks_exactly_the_current_section(client, url, expected):
    """aria-current="page" is on the section's item only: /protocols/ is not "Articles"."""
    from protocols.seed import seed_protocols

    seed_protocols()
    article = make_article(tags=["sleep"])
    if url == "ARTICLE":
        url = article.get_absolute_url()
    assert current_nav_item(client, url) == expected
