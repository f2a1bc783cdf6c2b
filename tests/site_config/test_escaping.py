"""Every template renders user-controlled text escaped: articles, tags, search, signup, admin lists."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from protocols.models import Signup
from protocols.seed import seed_protocols
from tests.articles.factories import make_article, make_author
from tests.helpers import log_in_staff

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('xss')</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOAD = SCRIPT + IMG
RAW_MARKERS = ("<script>alert(", "<img src=x", "onerror=alert(1)>")


def assert_escaped(response, where):
    assert response.status_code == 200, (where, response.status_code)
    body = response.content.decode()
    for marker in RAW_MARKERS:
        assert marker not in body, f"{where}: unescaped {marker!r}"
    return body


@pytest.fixture
def hostile_content():
    author = make_author(name="Author " + PAYLOAD, bio="Bio " + PAYLOAD, credentials=IMG[:100])
    article = make_article(
        title="Title " + SCRIPT,
        summary="Summary " + PAYLOAD,
        body="Body text " + PAYLOAD + "\n\n## Heading " + SCRIPT + "\n\nMore.",
        tags=["tag " + SCRIPT[:40], "plain"],
        references=[("Ref " + PAYLOAD, "https://example.com/?q=" + IMG)],
        author=author,
    )
    protocol = seed_protocols()
    protocol.tagline = "Tagline " + PAYLOAD
    protocol.name = "Sleep " + SCRIPT
    protocol.save()
    return article, protocol


def test_reader_pages_escape_article_author_tag_and_reference_text(client, hostile_content):
    """Hostile text in articles, authors, tags, references and protocols is shown escaped on every reader page."""
    article, protocol = hostile_content
    tag = article.tags.exclude(name="plain").get()
    for url in ("/", "/articles/", article.get_absolute_url(), "/tags/", f"/tags/{tag.slug}/", "/tags/plain/",
                "/protocols/", protocol.get_absolute_url()):  # fmt: skip
        body = assert_escaped(client.get(url), url)
        assert "&lt;script&gt;" in body or "\\u003Cscript\\u003E" in body, f"{url}: the text is not shown at all"


def test_feeds_escape_text(client, hostile_content):
    """The RSS and Atom feeds escape hostile article text."""
    for url in ("/feed/", "/feed/atom/"):
        assert_escaped(client.get(url), url)


def test_search_query_and_results_are_escaped(client, hostile_content):
    """A hostile search query, tag and matching results are shown escaped."""
    body = assert_escaped(client.get("/search/", {"q": "Title " + PAYLOAD}), "search")
    assert "&lt;script&gt;" in body or "&lt;img" in body or "&quot;&gt;" in body
    assert_escaped(client.get("/search/", {"q": "xss", "tag": PAYLOAD}), "search with tag")


def test_signup_error_echoes_the_address_escaped(client, hostile_content):
    """A hostile address is refused with a 400 that echoes it escaped, and nothing is stored."""
    _, protocol = hostile_content
    response = client.post(protocol.get_absolute_url(), {"email": PAYLOAD, "consent": "on"})
    assert response.status_code == 400
    assert_escaped(type("R", (), {"status_code": 200, "content": response.content})(), "signup error")
    assert not Signup.objects.exists()


def test_admin_change_lists_escape_text(hostile_content):
    """The admin's lists, forms and search escape hostile text from every model."""
    article, protocol = hostile_content
    Signup.objects.create(
        protocol=protocol,
        email="x" + SCRIPT.replace(" ", "") + "@example.com",
        consent_text=PAYLOAD,
        consented_at=timezone.now(),
    )
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    client = Client()
    log_in_staff(client, admin)
    for url in ("/admin/articles/article/", f"/admin/articles/article/{article.pk}/change/",
                "/admin/articles/author/", "/admin/taggit/tag/", "/admin/protocols/protocol/",
                "/admin/protocols/signup/", f"/admin/protocols/protocol/{protocol.pk}/change/"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        assert_escaped(response, url)
    response = client.get("/admin/articles/article/", {"q": PAYLOAD})
    assert_escaped(response, "admin search")
