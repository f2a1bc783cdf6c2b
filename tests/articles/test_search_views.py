"""The /search/ page: form validation, results, suggestions, pagination, escaping."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.articles.factories import make_article
from tests.helpers import log_in_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(django_capture_on_commit_callbacks):
    """Create an article and run the on-commit index update, as a real request would."""

    def make(**fields):
        with django_capture_on_commit_callbacks(execute=True):
            return make_article(**fields)

    return make


def page(client, **params):
    response = client.get("/search/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_empty_query_shows_a_prompt(client):
    """No words: the search page with a prompt, noindex, and no search query run."""
    body = page(client)
    assert "<title>Search | " in body
    assert '<meta name="robots" content="noindex">' in body
    assert "Type a word or two" in body
    assert "search-results" not in body


def test_results_page(client, article):
    """Count, title link, date, tags and a marked snippet; the query stays in the box."""
    first = article(
        title="Magnesium and leg cramps", body="Night cramps respond to magnesium.", tags=["magnesium", "cramps"]
    )
    article(title="Vitamin D", body="Sunlight.")
    body = page(client, q="cramping")
    assert "1 article matches" in body
    assert f'href="{first.get_absolute_url()}"' in body
    assert "<mark>cramps</mark>" in body
    assert 'rel="tag"' in body and ">magnesium</a>" in body
    assert f'datetime="{first.published_at.isoformat(timespec="seconds")}"' in body
    assert 'value="cramping"' in body
    assert "<title>Search: cramping | " in body
    # A page with results is an indexable landing page, canonical with its words.
    assert '<meta name="robots"' not in body
    assert '<link rel="canonical" href="http://testserver/search/?q=cramping">' in body


def test_user_text_is_escaped_everywhere(client, article):
    """A hostile query shows escaped in the title, heading and box; never as markup."""
    article(title="Script tags explained", body="About the script element.")
    body = page(client, q='<script>alert("x")</script> "><img src=x onerror=alert(1)>')
    assert "<script>alert" not in body
    assert "<img src=x" not in body
    assert "&lt;script&gt;" in body
    title = re.search(r"<title>(.*?)</title>", body, re.S).group(1)
    assert "<" not in title.replace("&lt;", "")


def test_article_text_in_results_is_escaped(client, article):
    """The results list (a Jinja2 template) escapes what editors typed: title and tag names
    arrive as text, and only the snippet's own <mark> is markup."""
    article(
        title='Zinc <img src=x onerror="alert(1)"> & copper',
        body="Zinc and copper balance.",
        tags=["<b>minerals</b>"],
    )
    body = page(client, q="zinc")
    results = re.search(r'<ol class="card-list search-results">(.*?)</ol>', body, re.S).group(1)
    assert "<img" not in results and "<b>" not in results
    assert "Zinc &lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; copper" in results
    assert "&lt;b&gt;minerals&lt;/b&gt;</a>" in results
    assert "<mark>Zinc</mark>" in results


def test_nothing_found_offers_suggestion_and_popular_tags(client, article):
    """No match: say so, suggest the index's word with a link, list popular topics."""
    article(title="Magnesium glycinate", tags=["magnesium"])
    body = page(client, q="magnesuim")
    assert "No articles found for “magnesuim”" in body
    assert 'Did you mean <a href="/search/?q=magnesium">magnesium</a>?' in body
    assert '<meta name="robots" content="noindex">' in body  # an empty result page is not worth indexing
    assert "Popular topics" in body and 'href="/tags/magnesium/"' in body


def test_facet_links_narrow_by_tag(client, article):
    """Facet links carry the query and the tag, with counts; the narrowed page says so."""
    article(title="Magnesium and sleep", tags=["magnesium", "sleep"])
    article(title="Magnesium and cramps", tags=["magnesium", "cramps"])
    body = page(client, q="magnesium")
    assert 'href="/search/?q=magnesium&amp;tag=sleep"' in body
    assert 'sleep <span class="facet-count">(1)</span>' in body
    narrowed = page(client, q="magnesium", tag="sleep")
    assert "Magnesium and sleep" in narrowed and "Magnesium and cramps" not in narrowed
    assert "with the tag “sleep”" in narrowed
    assert "<title>Search: magnesium in sleep | " in narrowed


def test_malformed_tag_is_ignored(client, article):
    """A tag that is not a slug narrows nothing and is no error."""
    article(title="Magnesium guide")
    body = page(client, q="magnesium", tag="not a slug!")
    assert "Magnesium guide" in body


def test_pagination_links_and_impossible_pages(client, article):
    """Ten a page, links keep the query; junk or out-of-range pages are 404 pages."""
    for n in range(25):
        article(title=f"Omega {n}", slug=f"omega-{n}", days_ago=n + 1)
    body = page(client, q="omega")
    assert body.count('<li class="card">') == 10
    assert 'href="?q=omega&amp;page=2"' in body
    assert "Page 1 of 3" in body
    assert "<title>Search: omega (page 2) | " in page(client, q="omega", page=2)
    for bad in ("4", "0", "-1", "abc", "1.5", "99999999999999999999"):
        response = client.get("/search/", {"q": "omega", "page": bad})
        assert response.status_code == 404, bad


def test_long_query_is_shortened(client, article):
    """A 10,000-character query is cut, not rejected."""
    article(title="Magnesium guide")
    body = page(client, q="magnesium " + "x" * 10_000)
    assert "0 articles match" in body


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    q=st.text(max_size=200),
    tag=st.text(max_size=30),
    page_number=st.one_of(st.text(max_size=6), st.integers(-5, 5).map(str)),
)
def test_property_view_never_fails(client, q, tag, page_number):
    """Arbitrary query, tag and page: a 200 or a 404 page, never a 500."""
    response = client.get("/search/", {"q": q, "tag": tag, "page": page_number})
    assert response.status_code in (200, 404)


def test_admin_search_box_uses_the_index(client, article):
    """The articles admin's search finds drafts by stemmed words through the search index."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-for-tests")
    log_in_staff(client, user)
    article(title="Night cramps explained", slug="night-cramps", published=False)
    article(title="Iron basics", slug="iron-basics")
    response = client.get("/admin/articles/article/", {"q": "cramping"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Night cramps explained" in body and "Iron basics" not in body
