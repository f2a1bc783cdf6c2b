"""Reader pages: visibility, staff preview, pagination, SEO tags, JSON-LD, sanitising, query counts."""

import json
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.articles.factories import (
    make_article,
    make_author,
    make_editor,
    make_review,
    make_reviewer,
    make_scheduled,
)
from tests.articles.html_checks import dangerous_markup, elements
from tests.helpers import log_in_staff

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = ["/", "/articles/", "/tags/"]


def html(response):
    return response.content.decode()


def meta(page, **attrs):
    """Content of the first <meta> whose attributes include `attrs`."""
    for tag, found in elements(page):
        if tag == "meta" and all(found.get(k) == v for k, v in attrs.items()):
            return found.get("content")
    return None


@pytest.fixture
def editor_client(client):
    log_in_staff(client, make_editor())
    return client


# --- Visibility ------------------------------------------------------------------------


@pytest.mark.parametrize("make_hidden", [lambda **kw: make_article(published=False, **kw), make_scheduled])
def test_drafts_and_scheduled_articles_are_hidden_everywhere(client, make_hidden):
    """Home, list, article, tag page, tag index, feeds and sitemap show only published articles."""
    make_article(title="Visible piece", slug="visible", tags=["shared"])
    make_hidden(title="Hidden piece", slug="hidden", tags=["shared", "hiddentag"])
    for url in [*PUBLIC_PAGES, "/tags/shared/", "/feed/", "/feed/atom/", "/sitemap.xml"]:
        page = html(client.get(url))
        assert "Hidden piece" not in page and "/articles/hidden/" not in page, url
        assert "hiddentag" not in page, url
    assert client.get("/articles/hidden/").status_code == 404
    assert client.get("/tags/hiddentag/").status_code == 404
    assert 'shared <span class="tag-count">(1' in html(client.get("/tags/"))


def test_published_article_page_shows_everything(client):
    """Title, summary, byline and bio, dates, review line, reading time, toc, body, tags, references, disclaimer."""
    author = make_author(name="Dana Reyes", credentials="RD", bio="Dana writes about minerals.")
    article = make_article(
        title="Magnesium basics",
        summary="What magnesium does.",
        body="Lead.\n\n## Sources of magnesium\n\nNuts.\n\n## How much\n\nSome.",
        author=author,
        tags=["Magnesium", "sleep"],
        references=[("A study", "https://example.org/study")],
    )
    make_review(article, reviewer=make_reviewer(name="Dr. Sam Lee", slug="sam-lee", credentials="MD"))
    page = html(client.get(article.get_absolute_url()))
    assert "<h1>Magnesium basics</h1>" in page
    assert '<p class="lead">What magnesium does.</p>' in page
    assert f'By <a href="/authors/{author.slug}/" rel="author">Dana Reyes</a>, RD' in page
    assert "Dana writes about minerals." in page
    assert "Published <time" in page
    assert 'Medically reviewed by <a href="/reviewers/sam-lee/">Dr. Sam Lee</a>, MD, on <time' in page
    assert "1 min read" in page
    assert '<a href="#sources-of-magnesium">Sources of magnesium</a>' in page
    assert '<h2 id="how-much">How much</h2>' in page
    assert '<a href="/tags/magnesium/" rel="tag">Magnesium</a>' in page
    assert '<a href="https://example.org/study" rel="nofollow noopener noreferrer">A study</a>' in page
    assert "Medical disclaimer:</strong> this article" in page


def test_review_line_only_when_a_reviewer_is_set(client):
    """No "Medically reviewed by" line (and no reviewedBy) is invented for unreviewed articles."""
    page = html(client.get(make_article().get_absolute_url()))
    assert "Medically reviewed" not in page
    assert "reviewedBy" not in page


def test_related_articles_on_the_page(client):
    """Up to three related articles, most shared tags first, are linked under the article."""
    article = make_article(tags=["a", "b", "c"])
    best = make_article(title="Best match", tags=["a", "b", "c"])
    make_article(title="Weak match", tags=["a"], days_ago=5)
    make_article(title="Middle match", tags=["a", "b"], days_ago=3)
    make_article(title="Also weak", tags=["c"], days_ago=9)
    make_article(title="Unrelated", tags=["x"])
    page = html(client.get(article.get_absolute_url()))
    related = page.split('id="related-title"')[1]
    titles = re.findall(r"<h3><a [^>]+>([^<]+)</a></h3>", related)
    assert titles == ["Best match", "Middle match", "Weak match"]
    assert best.get_absolute_url() in related


# --- Staff preview -------------------------------------------------------------------------


@pytest.mark.parametrize("make_hidden", [lambda **kw: make_article(published=False, **kw), make_scheduled])
def test_editors_preview_drafts_and_scheduled_articles(editor_client, make_hidden):
    """Editors open unpublished articles at their URL, marked as not public, noindex and never cached."""
    article = make_hidden(title="Work in progress")
    response = editor_client.get(article.get_absolute_url())
    assert response.status_code == 200
    page = html(response)
    assert 'class="draft-notice"' in page and "not public" in page
    assert ("Scheduled: not public until" in page) == article.is_scheduled
    assert meta(page, name="robots") == "noindex, nofollow"
    assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert not getattr(response, "cache_public_page", False)


def test_staff_without_the_change_permission_get_404_for_drafts(client):
    """Being staff is not enough: previews need articles.change_article."""
    from django.contrib.auth import get_user_model

    log_in_staff(client, get_user_model().objects.create_user("viewer", password="x", is_staff=True))
    assert client.get(make_article(published=False).get_absolute_url()).status_code == 404


def test_the_change_permission_without_staff_status_gets_404_for_drafts(client):
    """Previews are for staff: a non-staff account holding the permission sees what readers see."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("outsider", password="x", is_staff=False)
    user.user_permissions.add(Permission.objects.get(codename="change_article", content_type__app_label="articles"))
    client.force_login(user)
    assert client.get(make_article(published=False).get_absolute_url()).status_code == 404


def test_published_pages_are_marked_cacheable_for_readers(client):
    """Home, list, tag pages, article page and feeds opt in to the public page cache."""
    article = make_article(tags=["sleep"])
    for url in [*PUBLIC_PAGES, "/tags/sleep/", article.get_absolute_url(), "/feed/", "/feed/atom/", "/sitemap.xml"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert getattr(response, "cache_public_page", False), url


def test_anonymous_readers_get_404_for_unpublished_articles(client):
    """Without the permission a draft or scheduled article looks like no article at all."""
    for article in (make_article(published=False), make_scheduled()):
        response = client.get(article.get_absolute_url())
        assert response.status_code == 404
        assert "Page not found" in html(response)


# --- Lists and pagination --------------------------------------------------------------------


def test_article_list_is_newest_first_and_ten_a_page(client):
    """10 a page; a short last page (1-3 articles) joins the page before it."""
    for days in range(23):
        make_article(title=f"Piece {days:02d}", days_ago=days + 1)
    first = html(client.get("/articles/"))
    assert first.index("Piece 00") < first.index("Piece 01")
    assert first.count('class="card"') == 10
    second = html(client.get("/articles/?page=2"))
    assert second.count('class="card"') == 10
    assert "Page 2 of 3" in second
    assert html(client.get("/articles/?page=3")).count('class="card"') == 3
    assert '<link rel="canonical" href="http://testserver/articles/?page=2">' in second
    assert "<title>All articles, page 2 " in second
    assert client.get("/articles/?page=4").status_code == 404


@pytest.mark.parametrize("page", ["x", "0", "-1", "99", "1.5", "%00", "9" * 30])
def test_junk_or_out_of_range_page_is_404_not_500(client, page):
    """Any impossible ?page= gives the site's 404 page."""
    make_article(tags=["sleep"])
    for url in ("/articles/", "/tags/sleep/"):
        response = client.get(url, {"page": page})
        assert response.status_code == 404
        assert "Page not found" in html(response)


def test_tag_page_lists_published_articles_with_that_tag(client):
    """/tags/<slug>/ shows the tag's published articles only; unknown tags are 404."""
    make_article(title="Tagged one", tags=["Sleep"])
    make_article(title="Other one", tags=["magnesium"])
    response = client.get(reverse("articles:tag", args=["sleep"]))
    page = html(response)
    assert "Articles about Sleep" in page and "Tagged one" in page and "Other one" not in page
    assert client.get("/tags/no-such-tag/").status_code == 404


def test_home_shows_newest_articles_with_summaries_and_tags(client):
    """The home page lists the newest articles with their summary and tag links."""
    make_article(title="Old news", days_ago=30)
    make_article(title="Fresh news", summary="Fresh summary.", tags=["sleep"])
    page = html(client.get("/"))
    assert page.index("Fresh news") < page.index("Old news")
    assert "Fresh summary." in page and 'href="/tags/sleep/" rel="tag"' in page


# --- SEO ---------------------------------------------------------------------------------------


def test_every_page_has_a_unique_title_description_canonical_and_social_tags(client):
    """Each page has its own <title>, a description, a canonical link, Open Graph and Twitter tags."""
    article = make_article(title="Sleep and magnesium", summary="How they relate.", tags=["sleep"])
    make_article(tags=["sleep"])
    urls = [*PUBLIC_PAGES, "/tags/sleep/", article.get_absolute_url()]
    titles = set()
    for url in urls:
        page = html(client.get(url))
        titles.add(re.search(r"<title>(.*?)</title>", page, re.S).group(1))
        assert meta(page, name="description"), url
        assert f'<link rel="canonical" href="http://testserver{url}">' in page, url
        for prop in ("og:title", "og:description", "og:url", "og:type", "og:site_name"):
            assert meta(page, property=prop), (url, prop)
        # Every page has a 1200 x 630 picture (a hero crop or a generated card): the large card.
        assert meta(page, name="twitter:card") == "summary_large_image", url
        assert meta(page, property="og:image").startswith("http://testserver/media/images/"), url
        assert 'type="application/rss+xml"' in page and 'type="application/atom+xml"' in page
    assert len(titles) == len(urls)
    page = html(client.get(article.get_absolute_url()))
    assert meta(page, name="description") == "How they relate."
    assert meta(page, property="og:type") == "article"
    assert meta(page, property="og:title") == "Sleep and magnesium"


def json_ld(page):
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])


def graph_node(data, node_type):
    """The one node of `node_type` in a JSON-LD @graph."""
    nodes = [node for node in data["@graph"] if node["@type"] == node_type]
    assert len(nodes) == 1, node_type
    return nodes[0]


def test_article_json_ld_is_valid_schema_org(client):
    """The JSON-LD graph parses; its Article names headline, dates, author, keywords; the page its reviewer."""
    article = make_article(
        title="Magnesium and sleep",
        author=make_author(name="Dana Reyes"),
        tags=["magnesium", "sleep"],
    )
    make_review(article, reviewer=make_reviewer(name="Dr. Sam Lee", slug="sam-lee", credentials="MD"))
    data = json_ld(html(client.get(article.get_absolute_url())))
    url = "http://testserver/articles/" + article.slug + "/"
    assert data["@context"] == "https://schema.org"
    page = graph_node(data, "MedicalWebPage")
    entry = graph_node(data, "Article")
    assert page["url"] == url and page["mainEntity"] == {"@id": entry["@id"]}
    assert entry["headline"] == "Magnesium and sleep"
    assert entry["url"] == url
    assert entry["datePublished"] == article.published_at.isoformat(timespec="seconds")
    assert entry["dateModified"] == page["dateModified"]
    assert entry["dateModified"] == timezone.localtime(article.text_updated_at).isoformat(timespec="seconds")
    assert entry["author"] == {
        "@type": "Person",
        "name": "Dana Reyes",
        "url": f"http://testserver/authors/{article.author.slug}/",
        "description": "MSc, Registered Dietitian",
        "hasCredential": {"@type": "EducationalOccupationalCredential", "name": "MSc, Registered Dietitian"},
    }
    assert page["reviewedBy"]["name"] == "Dr. Sam Lee"
    assert page["reviewedBy"]["url"] == "http://testserver/reviewers/sam-lee/"
    assert page["lastReviewed"] == timezone.localdate().isoformat()
    assert "reviewedBy" not in entry and "lastReviewed" not in entry
    assert entry["keywords"] == ["magnesium", "sleep"]


def test_an_article_without_a_named_author_is_by_the_editors(client, settings):
    """No invented writer: the byline names the publication, and the JSON-LD author is its Organization."""
    page = html(client.get(make_article(title="Zinc basics").get_absolute_url()))
    assert f'<span class="byline">By the {settings.SITE_NAME} editors</span>' in page
    data = json_ld(page)
    organization = graph_node(data, "Organization")
    assert organization["name"] == settings.SITE_NAME
    assert graph_node(data, "Article")["author"] == {"@id": organization["@id"]}


def test_json_ld_cannot_break_out_of_its_script_element(client):
    """A title with </script> and an HTML comment stays inside the JSON, escaped, and round-trips."""
    title = "</script><script>alert(1)</script><!-- & -->"
    article = make_article(title=title, summary="</script>")
    page = html(client.get(article.get_absolute_url()))
    assert page.count("</script>") == 1
    assert graph_node(json_ld(page), "Article")["headline"] == title
    assert dangerous_markup(page) == []


def test_hostile_article_content_never_reaches_a_page_unescaped(client, editor_client):
    """Script tags, onerror= and javascript: links in any field render inert on every page."""
    hostile = '<script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">x</a>'
    article = make_article(
        title=hostile,
        summary=hostile,
        body=f"{hostile}\n\n[link](javascript:alert(1))\n\n## {hostile}\n",
        tags=["<b onmouseover=alert(1)>tag</b>"],
        references=[("<script>alert(1)</script>", "https://example.org/")],
        author=make_author(name=hostile, bio=hostile, credentials=hostile),
    )
    tag_slug = article.tag_list[0].slug
    for url in [*PUBLIC_PAGES, article.get_absolute_url(), f"/tags/{tag_slug}/"]:
        page = html(client.get(url))
        assert dangerous_markup(page) == [], url
    for url in ("/feed/", "/feed/atom/"):
        assert "<script" not in html(client.get(url))


# --- Query counts ------------------------------------------------------------------------------


def _queries(client, url):
    cache.clear()
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context)


def _articles_with_five_tags(start, stop):
    return [
        make_article(title=f"Counted {i}", tags=[f"tag{(i + k) % 12}" for k in range(5)], days_ago=i + 1)
        for i in range(start, stop)
    ]


# The pages' own queries: home 2 (articles, their tags), list 3 (+ count), tag page 4 (tag, count,
# articles, tags), article 4 (article with author, tags, references, related). The other 2 belong
# to the layout and the page cache (the protocol banner, the next scheduled publication).
# The article page: one more for its approved reviews and their reviewers (one prefetch).
MAX_QUERIES = {"home": 4, "list": 5, "tag": 6, "article": 7}


def test_query_counts_do_not_grow_with_content(client, django_assert_max_num_queries):
    """Home, list, tag page and article page make as many queries with 60 articles as with 3."""
    articles = _articles_with_five_tags(0, 3)
    target = articles[0]
    urls = {"home": "/", "list": "/articles/", "tag": "/tags/tag0/", "article": target.get_absolute_url()}
    small = {name: _queries(client, url) for name, url in urls.items()}
    _articles_with_five_tags(3, 60)
    large = {name: _queries(client, url) for name, url in urls.items()}
    assert small == large
    for name, url in urls.items():
        cache.clear()
        with django_assert_max_num_queries(MAX_QUERIES[name]):
            client.get(url)


def test_tags_beyond_ascii_and_without_letters_have_working_pages(client):
    """Tag names with accents, other scripts or no letters at all never break a page."""
    from taggit.models import Tag

    article = make_article(title="Coffee and minerals", tags=["Café crème", "ω-3", "???"])
    slugs = sorted(Tag.objects.values_list("slug", flat=True))
    assert "café-crème" in slugs and "ω-3" in slugs
    assert all(slugs), slugs  # "???" got a generated slug
    pages = ["/", "/articles/", "/tags/", article.get_absolute_url(), "/sitemap.xml", "/feed/", "/search/?q=coffee"]
    for url in pages + [reverse("articles:tag", args=[slug]) for slug in slugs]:
        cache.clear()
        response = client.get(url)
        assert response.status_code == 200, url
    tag_page = client.get(reverse("articles:tag", args=["café-crème"])).content.decode()
    assert "Coffee and minerals" in tag_page
