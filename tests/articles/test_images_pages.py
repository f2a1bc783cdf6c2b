"""Library images on pages: the hero's <picture>, cards, body images, og tags, JSON-LD,
generated social cards and the media files' cache headers."""

import json
import re

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.images import cards
from articles.images.services import update_image_files
from tests.articles import image_files
from tests.articles.factories import make_article, make_editor
from tests.articles.test_views import meta
from tests.helpers import log_in_staff
from tests.site_config.wsgi_client import PageCacheClient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def pictures(html):
    return re.findall(r"<picture[^>]*>.*?</picture>", html, re.S)


def img_attrs(fragment):
    tag = re.search(r"<img ([^>]*)>", fragment).group(1)
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag)) | dict.fromkeys(re.findall(r"\s(\w+)(?=\s|$)", " " + tag), "")


@pytest.fixture
def hero():
    return image_files.make_image(
        image_files.jpeg_bytes(1800, 1200), caption="Tablets on a kitchen table.", credit="Jane Doe / CC BY 4.0"
    )


def made(image):
    update_image_files(image_id=image.pk)
    image.refresh_from_db()
    return image


def test_before_the_worker_the_hero_is_the_reencoded_original(client, hero):
    """The page never breaks: until the renditions exist the <img> shows the original."""
    article = make_article(hero_image=hero)
    html = page(client, article.get_absolute_url())
    [hero_picture] = pictures(html)
    attrs = img_attrs(hero_picture)
    assert attrs["src"] == f"/media/{hero.file.name}"
    assert (attrs["width"], attrs["height"]) == ("1800", "1200")
    assert attrs["fetchpriority"] == "high" and "loading" not in attrs
    assert attrs["alt"] == hero.alt_text
    assert "<source" not in hero_picture
    assert client.get(attrs["src"]).status_code == 200


def test_the_hero_is_a_responsive_picture_with_avif_webp_and_jpeg(client, hero):
    article = make_article(hero_image=made(hero))
    html = page(client, article.get_absolute_url())
    [hero_picture] = pictures(html)
    sources = re.findall(r'<source type="([^"]+)" srcset="([^"]+)" sizes="([^"]+)">', hero_picture)
    assert [kind for kind, _srcset, _sizes in sources] == ["image/avif", "image/webp"]
    for kind, srcset, sizes in sources:
        widths = re.findall(r"\.(\w+) (\d+)w", srcset)
        assert [int(w) for _ext, w in widths] == [480, 800, 1200, 1600]
        assert {ext for ext, _w in widths} == {kind.split("/")[1]}
        assert "44rem" in sizes
    attrs = img_attrs(hero_picture)
    assert attrs["src"].endswith(".jpg") and "-800w-" in attrs["src"]
    assert (attrs["width"], attrs["height"]) == ("800", "533")  # the space is reserved: no layout shift
    assert attrs["srcset"].count("w,") == 3 and attrs["sizes"]
    assert attrs["fetchpriority"] == "high" and attrs["decoding"] == "async"
    assert "Tablets on a kitchen table." in html and "Jane Doe / CC BY 4.0" in html
    for url in re.findall(r"(/media/\S+) \d+w", hero_picture):
        assert client.get(url).status_code == 200, url


def test_og_tags_and_json_ld_describe_the_hero(client, hero):
    article = make_article(title="Magnesium and sleep", hero_image=made(hero))
    html = page(client, article.get_absolute_url())
    og_image = meta(html, property="og:image")
    assert og_image == f"http://testserver/media/{hero.social_name}"
    assert (meta(html, property="og:image:width"), meta(html, property="og:image:height")) == ("1200", "630")
    assert meta(html, property="og:image:alt") == hero.alt_text
    assert meta(html, name="twitter:card") == "summary_large_image"
    crop = image_files.read_back(default_storage, hero.social_name)
    assert crop.size == (1200, 630)

    [block] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    [article_node] = [node for node in json.loads(block)["@graph"] if node["@type"] == "Article"]
    image = article_node["image"]
    assert image["@type"] == "ImageObject"
    assert image["url"] == f"http://testserver/media/{hero.file.name}"
    assert (image["width"], image["height"]) == (1800, 1200)
    assert image["caption"] == "Tablets on a kitchen table."
    assert image["creditText"] == "Jane Doe / CC BY 4.0"


def test_pages_without_a_hero_get_a_generated_card_drawn_once_per_title(client, monkeypatch):
    draws = []
    real_draw = cards.draw_card
    monkeypatch.setattr(cards, "draw_card", lambda *args: draws.append(args) or real_draw(*args))
    article = make_article(title="Zinc and colds")
    html = page(client, article.get_absolute_url())
    og_image = meta(html, property="og:image")
    name = og_image.removeprefix("http://testserver/media/")
    assert re.fullmatch(r"images/cards/[0-9a-f]{24}\.jpg", name)
    assert (meta(html, property="og:image:width"), meta(html, property="og:image:height")) == ("1200", "630")
    assert meta(html, property="og:image:alt") == "Zinc and colds · Well Informed"
    card = image_files.read_back(default_storage, name)
    assert card.size == (1200, 630) and card.format == "JPEG"
    # The card is the site's colour behind the text.
    assert card.getpixel((5, 5)) == pytest.approx((11, 94, 89), abs=3)
    assert draws == [("Zinc and colds", "Well Informed")]

    cache.clear()  # pages and the card's cache entry gone: the stored file is found, not drawn again
    assert meta(page(client, article.get_absolute_url()), property="og:image") == og_image
    assert len(draws) == 1
    home_card = meta(page(client, "/"), property="og:image")
    assert home_card != og_image and len(draws) == 2


def test_search_pages_share_one_card_whatever_the_query(client):
    first = meta(page(client, "/search/?q=magnesium"), property="og:image")
    second = meta(page(client, "/search/?q=zinc"), property="og:image")
    assert first == second


def test_cards_show_a_small_rendition_and_cost_no_extra_query(
    client, hero, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """Home, the list, tag pages and search results show the 480 px rendition of a hero."""
    made(hero)
    with django_capture_on_commit_callbacks(execute=True):  # the search index follows on commit
        with_hero = make_article(title="Magnesium with a picture", hero_image=hero, tags=["magnesium"])
        make_article(title="Magnesium without a picture", tags=["magnesium"])
    for url in ["/", "/articles/", "/tags/magnesium/", "/search/?q=magnesium"]:
        html = page(client, url)
        [card_picture] = pictures(html)
        attrs = img_attrs(card_picture)
        assert attrs["loading"] == "lazy" and attrs["alt"] == ""  # the title beside it says it all
        assert "-480w-" in attrs["src"] and "1600w" not in card_picture, url
        assert 'type="image/avif"' in card_picture
        assert html.index(card_picture) < html.index(with_hero.title), url
    queries = {}
    for url in ["/", "/articles/", "/tags/magnesium/"]:
        cache.clear()
        with CaptureQueriesContext(connection) as context:
            client.get(url)
        queries[url] = len(context.captured_queries)
    with django_capture_on_commit_callbacks(execute=True):
        more = [make_article(title="Magnesium, pictured", hero_image=hero, tags=["magnesium"]) for _ in range(5)]
    assert all(article.hero_image_id == hero.pk for article in more)
    for url, count in queries.items():
        cache.clear()
        with django_assert_num_queries(count):
            client.get(url)
    # Search results: one query for all the hits' heroes, however many (a page of results
    # with fewer hits also looks for a "did you mean", so the counts are not comparable).
    cache.clear()
    with CaptureQueriesContext(connection) as context:
        html = page(client, "/search/?q=magnesium")
    assert len(pictures(html)) == 6
    assert sum('FROM "articles_image"' in query["sql"] for query in context.captured_queries) == 1


def test_body_images_use_the_library_alt_caption_and_renditions(client, hero):
    made(hero)
    article = make_article(body=f"Intro.\n\n![](image:{hero.pk})\n\nMiddle.\n\n![A tablet close up](image:{hero.pk})")
    html = page(client, article.get_absolute_url())
    figures = re.findall(r'<figure class="article-figure">.*?</figure>', html, re.S)
    assert len(figures) == 2
    assert img_attrs(figures[0])["alt"] == hero.alt_text
    assert img_attrs(figures[1])["alt"] == "A tablet close up"
    assert all('loading="lazy"' in figure and "Tablets on a kitchen table." in figure for figure in figures)
    assert 'type="image/avif"' in figures[0]
    assert "data-image" not in html


def test_a_changed_alt_text_shows_without_saving_the_article(hero, django_capture_on_commit_callbacks):
    """Markers are expanded per request, and an image change invalidates cached pages."""
    article = make_article(body=f"![](image:{hero.pk})")
    wsgi = PageCacheClient()
    url = article.get_absolute_url()
    assert hero.alt_text in wsgi.get(url).text
    assert not wsgi.get(url).from_django  # served from the page cache

    with django_capture_on_commit_callbacks(execute=True):
        hero.alt_text = "A new description of the tablets"
        hero.save()
    after = wsgi.get(url)
    assert after.from_django and "A new description of the tablets" in after.text


def test_unknown_image_ids_show_nothing_to_readers_and_a_warning_to_editors(client):
    article = make_article(body="Before.\n\n![](image:999999)\n\nAfter.", published=False)
    editor = make_editor()
    preview = page(log_in_staff(client, editor), article.get_absolute_url())
    assert "Image 999999 is not in the image library" in preview
    article.status = article.Status.PUBLISHED
    article.save()
    client.logout()
    public = page(client, article.get_absolute_url())
    assert "999999" not in public and "image-warning" not in public
    assert "Before." in public and "After." in public


def test_only_library_images_render_in_bodies():
    """An outside address in image syntax renders nothing (no hotlinked or tracking images)."""
    article = make_article(body="![x](https://tracker.example/pixel.png) ![y](image:abc) ![z](javascript:1)")
    assert "<img" not in article.body_html and "tracker" not in article.body_html
    assert "data-image" not in article.body_html


def test_media_files_are_served_as_immutable_and_nothing_else_is(client, hero):
    response = client.get(f"/media/{hero.file.name}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == default_storage.open(hero.file.name).read()
    for bad in ["/media/../site_config/settings.py", "/media/images/originals/", "/media/x.html", "/media/no.jpg"]:
        assert client.get(bad).status_code == 404, bad
    assert client.post(f"/media/{hero.file.name}").status_code == 405
