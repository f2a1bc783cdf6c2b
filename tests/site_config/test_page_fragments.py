"""Pages Django still renders (a reader with a session cookie: expired, logged in) reuse the
page's fragment stored under the content version: identical HTML, fewer queries, and never
stale (an edit, a publication, a scheduled time) nor shared where it must not be."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from articles.models.articles import ArticleQuerySet
from protocols.seed import seed_protocols
from site_config import page_cache
from tests.articles.factories import make_article, make_author, make_editor, make_review
from tests.helpers import log_in_staff

pytestmark = pytest.mark.django_db

# A session key no session has: Django looks it up, finds nothing, renders for an anonymous reader.
STALE_SESSION = {"cookie": "sessionid=stalesessionkey000000000000000000"}


@pytest.fixture
def stored_fragments(monkeypatch):
    """The keys of the fragments stored during the test, in order."""
    stored = []
    store = page_cache.set_fragment

    def recording(key, html, version):
        stored.append(key)
        store(key, html, version)

    monkeypatch.setattr(page_cache, "set_fragment", recording)
    return stored


def get(client, url):
    response = client.get(url, headers=STALE_SESSION)
    assert response.status_code == 200, url
    return response


@pytest.fixture
def site(db):
    author = make_author()
    article = make_article(
        title="Magnesium and cramps", tags=["magnesium", "sleep"], author=author, mentions_publisher_products=True
    )
    make_review(article)
    for n in range(4):
        make_article(title=f"Other {n}", tags=["magnesium"], days_ago=n + 2)
    protocol = seed_protocols()
    return {
        "home": "/",
        "list": "/articles/",
        "tag": "/tags/magnesium/",
        "article": article.get_absolute_url(),
        "protocol": protocol.get_absolute_url(),
        "search": "/search/?q=magnesium",
    }


# Queries of a render from the fragment: the session lookup only. The article, protocol and
# tag pages remember whether the address names something public, the list and tag pages how
# many articles they list, and read nothing else.
WARM_QUERIES = {"home": 1, "list": 1, "tag": 1, "article": 1, "protocol": 1}


@pytest.mark.parametrize("page", sorted(WARM_QUERIES))
def test_a_second_render_reuses_the_fragment_with_fewer_queries(client, site, page, django_assert_num_queries):
    """The same HTML as a full render, with only the queries the view needs before rendering."""
    url = site[page]
    cold = get(client, url)
    with django_assert_num_queries(WARM_QUERIES[page]):
        warm = get(client, url)
    assert warm.content == cold.content
    if page == "article":
        assert b'class="disclosure"' in warm.content
    # The reader with the stale cookie gets it deleted, and nothing is stored for everyone.
    assert warm.cookies["sessionid"].value == ""
    assert warm["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize("page", ["home", "list", "tag"])
def test_a_page_from_its_fragment_builds_no_article_queryset(client, site, page, monkeypatch):
    """The lists' articles are fetched, their queryset even built, when the template reads
    them: a render from the fragment does neither, a full render does both."""
    url = site[page]
    cold = get(client, url).content
    built = []
    published = ArticleQuerySet.published

    def recording(queryset):
        built.append(queryset)
        return published(queryset)

    monkeypatch.setattr(ArticleQuerySet, "published", recording)
    assert get(client, url).content == cold
    assert built == []
    monkeypatch.setattr(page_cache, "get_fragment", lambda key: None)
    assert get(client, url).content == cold  # rendered in full: the articles are read
    assert built


@pytest.mark.parametrize("page", ["article", "tag"])
def test_a_page_whose_fragment_is_gone_is_rendered_in_full_from_the_remembered_lookup(client, site, page, monkeypatch):
    """The address is remembered as public but the page's fragment was evicted: the lazy
    article (or the remembered tag and count) renders the very same page."""
    url = site[page]
    full = get(client, url).content
    read = page_cache.get_fragment
    monkeypatch.setattr(page_cache, "get_fragment", lambda key: None if ":page:" in key else read(key))
    assert get(client, url).content == full


def test_search_pages_are_always_rendered_afresh(client, site, stored_fragments):
    """Result pages rarely repeat (repeats come from the page cache): no fragment is stored."""
    first = get(client, "/search/?q=magnesium").content
    assert get(client, "/search/?q=magnesium").content == first
    assert b"cramps" in get(client, "/search/?q=cramps").content
    assert stored_fragments == []


def test_an_edit_shows_on_the_next_render(client, site, django_capture_on_commit_callbacks):
    """Saving an article bumps the content version on commit: no render reuses an older fragment."""
    from articles.models import Article

    get(client, site["article"])
    get(client, "/")
    article = Article.objects.get(title="Magnesium and cramps")
    with django_capture_on_commit_callbacks(execute=True):
        article.title = "Magnesium and night cramps"
        article.save()
    assert "Magnesium and night cramps" in get(client, site["article"]).content.decode()
    assert "Magnesium and night cramps" in get(client, "/").content.decode()


def test_an_unpublished_article_and_its_tag_are_gone_on_the_next_render(
    client, site, django_capture_on_commit_callbacks
):
    """The article page and the tag page remember that their address is public: under the
    content version only, so unpublishing answers 404 at once."""
    lone = make_article(title="Lone article", tags=["lonely-tag"])
    get(client, lone.get_absolute_url())
    get(client, "/tags/lonely-tag/")
    with django_capture_on_commit_callbacks(execute=True):
        lone.status = lone.Status.DRAFT
        lone.save()
    assert client.get(lone.get_absolute_url(), headers=STALE_SESSION).status_code == 404
    assert client.get("/tags/lonely-tag/", headers=STALE_SESSION).status_code == 404


def test_a_publication_shows_on_the_next_render(client, site, django_capture_on_commit_callbacks):
    get(client, "/")
    with django_capture_on_commit_callbacks(execute=True):
        make_article(title="Freshly published", days_ago=0)
    assert "Freshly published" in get(client, "/").content.decode()


def test_a_fragment_never_outlives_a_scheduled_publication(client, site):
    """No save happens when a scheduled article's time comes: the fragment expires then."""
    make_article(title="Scheduled piece", published_at=timezone.now() + timedelta(minutes=10))
    assert "Scheduled piece" not in get(client, "/").content.decode()
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert "Scheduled piece" in get(client, "/").content.decode()


def test_the_editors_preview_is_never_stored_nor_served_from_a_fragment(client, site, stored_fragments):
    """A draft's preview renders afresh for each editor; a published page seen by an editor
    is rendered for them, not taken from (or left in) the readers' fragments."""
    draft = make_article(title="Draft in progress", published=False)
    get(client, site["article"])
    assert len(stored_fragments) == 1
    editor_client = log_in_staff(client, make_editor())
    assert "Draft in progress" in editor_client.get(draft.get_absolute_url()).content.decode()
    assert b"Only editors can see this preview" in editor_client.get(draft.get_absolute_url()).content
    editor_client.get(site["article"])
    assert len(stored_fragments) == 1


def test_a_form_posted_with_errors_is_not_shared(client, site, stored_fragments):
    """The protocol page re-rendered with a posted form's errors is that reader's alone."""
    url = site["protocol"]
    posted = client.post(url, {"email": "not an address"}, headers={**STALE_SESSION, "origin": "http://testserver"})
    assert posted.status_code == 400 and b"error-summary" in posted.content
    assert stored_fragments == []
    assert b"error-summary" not in get(client, url).content


def test_a_not_found_page_is_never_stored(client, site, stored_fragments):
    """Made-up addresses under a public view (an unknown article or tag) store nothing."""
    for url in ("/articles/no-such-article/", "/tags/no-such-tag/", "/articles/?page=99"):
        response = client.get(url, headers=STALE_SESSION)
        assert response.status_code == 404
        assert b"Page not found" in response.content
    assert stored_fragments == []


def test_fragments_are_keyed_by_host(client, site, settings):
    """Absolute links (canonical, JSON-LD) carry the host: each host has its own fragment."""
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    get(client, site["article"])
    other = client.get(site["article"], headers={**STALE_SESSION, "host": "other.example"})
    assert b"http://other.example/" in other.content
    assert b"http://testserver/" not in other.content


def test_no_fragment_is_shared_when_the_page_cache_is_off(client, site, settings, stored_fragments):
    """In development (DEBUG, page cache off) an edited template shows on the next reload."""
    settings.PAGE_CACHE_ENABLED = False
    get(client, "/")
    get(client, "/")
    assert stored_fragments == []


def test_a_fragment_past_its_time_is_not_served_even_while_the_cache_still_holds_it():
    """Expiry is checked against this server's clock, as the page cache's read path does: Redis
    keeps an entry by its own clock, which may be behind the app server's at a publication."""
    import time

    from site_config.page_cache import fragments, store

    key = fragments.fragment_key(1, "page", ["t", "/"])
    store.cache().set(key, {"expires_at": time.time() - 1, "value": "<p>old</p>"}, 600)
    assert fragments.get_fragment(key) is None
    store.cache().set(key, {"expires_at": time.time() + 60, "value": "<p>fresh</p>"}, 600)
    assert fragments.get_fragment(key) == "<p>fresh</p>"
    store.cache().set(key, "<p>stored by an older release</p>", 600)
    assert fragments.get_fragment(key) is None
