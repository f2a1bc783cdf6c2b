"""RSS and Atom feeds, the sitemap and robots.txt."""

import xml.etree.ElementTree as ET

import pytest

from tests.articles.factories import make_article, make_author, make_scheduled

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def test_rss_feed_lists_newest_published_articles_with_absolute_links(client):
    """RSS items: title, full summary, absolute link, date, author and tags; newest first; published only."""
    make_article(title="Older", days_ago=10)
    make_article(
        title="Newer",
        slug="newer",
        summary="The whole summary, not cut.",
        author=make_author(name="Dana Reyes"),
        tags=["sleep", "magnesium"],
    )
    make_article(title="Draft", published=False)
    make_scheduled(title="Scheduled")
    response = client.get("/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    assert channel.findtext("link") == "http://testserver/"
    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == ["Newer", "Older"]
    newest = items[0]
    assert newest.findtext("link") == "http://testserver/articles/newer/"
    assert newest.findtext("description") == "The whole summary, not cut."
    assert newest.findtext("pubDate")
    assert "Dana Reyes" in ET.tostring(newest, encoding="unicode")
    assert sorted(c.text for c in newest.findall("category")) == ["magnesium", "sleep"]


def test_atom_feed_has_the_same_entries(client):
    """Atom entries: absolute alternate links, summary, published and updated dates; published only."""
    make_article(title="Live", slug="live", summary="Live summary.")
    make_article(title="Draft", published=False)
    response = client.get("/feed/atom/")
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Live"]
    entry = entries[0]
    assert entry.find(f"{ATOM}link").get("href") == "http://testserver/articles/live/"
    assert entry.findtext(f"{ATOM}summary") == "Live summary."
    assert entry.findtext(f"{ATOM}published") and entry.findtext(f"{ATOM}updated")


def test_feed_is_capped_at_twenty_items(client):
    """Feeds carry the 20 newest articles, not the whole archive."""
    for i in range(25):
        make_article(days_ago=i + 1)
    channel = ET.fromstring(client.get("/feed/").content).find("channel")
    assert len(channel.findall("item")) == 20


def test_sitemap_lists_published_articles_with_lastmod_tags_and_fixed_pages(client):
    """The sitemap has home, list, topics, every published article (with lastmod) and tags in use."""
    live = make_article(slug="live", tags=["sleep"])
    make_article(slug="draft", published=False, tags=["secret"])
    make_scheduled(slug="later", tags=["future"])
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    urls = {
        url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
        for url in ET.fromstring(response.content).findall(f"{SITEMAP}url")
    }
    base = "http://testserver"
    for path in ("/", "/articles/", "/tags/", "/articles/live/", "/tags/sleep/"):
        assert base + path in urls, path
    assert urls[base + "/articles/live/"].startswith(live.updated_at.date().isoformat())
    for path in ("/articles/draft/", "/articles/later/", "/tags/secret/", "/tags/future/"):
        assert base + path not in urls, path


def test_robots_txt_names_the_sitemap(client):
    """robots.txt points crawlers at the absolute sitemap URL."""
    assert "Sitemap: http://testserver/sitemap.xml" in client.get("/robots.txt").content.decode()


def test_atom_feed_has_an_author_as_rfc_4287_requires(client, settings):
    """feedparser reads a well-formed Atom feed whose author is the publication, with its address;
    an entry with a named writer keeps that writer."""
    import feedparser

    make_article(title="By the editors")
    make_article(title="By Dana", author=make_author(name="Dana Reyes"))
    parsed = feedparser.parse(client.get("/feed/atom/").content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.author_detail.name == settings.SITE_NAME
    assert parsed.feed.author_detail.href == "http://testserver/"
    authors = {entry.title: entry.get("author") for entry in parsed.entries}
    assert authors["By Dana"] == "Dana Reyes"
