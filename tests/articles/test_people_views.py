"""Author and reviewer pages: who they are, their published articles only, Person JSON-LD, no N+1."""

import json
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Review
from tests.articles import image_files
from tests.articles.factories import make_article, make_author, make_review, make_reviewer, make_scheduled

pytestmark = pytest.mark.django_db


def html(response):
    return response.content.decode()


def json_ld(page):
    (block,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return json.loads(block)


def test_author_page_lists_published_articles_only(client):
    """/authors/<slug>/ shows the bio and the author's published articles; drafts and scheduled never."""
    author = make_author(name="Dana Reyes", slug="dana-reyes", bio="Dana writes about minerals.")
    make_article(title="Live piece", author=author)
    make_article(title="Draft piece", author=author, published=False)
    make_scheduled(title="Future piece", author=author)
    make_article(title="Someone else's piece", author=make_author())
    page = html(client.get("/authors/dana-reyes/"))
    assert "<h1>Dana Reyes</h1>" in page and "Dana writes about minerals." in page
    assert "Live piece" in page
    for hidden in ("Draft piece", "Future piece", "Someone else"):
        assert hidden not in page
    assert "1 article, newest first." in page


def test_the_byline_links_to_the_author_page(client):
    """The article's byline and its "About the author" box link to /authors/<slug>/."""
    author = make_author(name="Dana Reyes", slug="dana-reyes")
    page = html(client.get(make_article(author=author).get_absolute_url()))
    assert '<a href="/authors/dana-reyes/" rel="author">Dana Reyes</a>' in page
    assert client.get("/authors/dana-reyes/").status_code == 200


def test_reviewer_page_lists_published_articles_they_approved(client):
    """/reviewers/<slug>/ lists published articles with an approved review by them, each once; never the email."""
    reviewer = make_reviewer(name="Dr. Sam Lee", slug="sam-lee", credentials="MD", email="sam@private.example")
    reviewed = make_article(title="Reviewed twice")
    make_review(reviewed, reviewer=reviewer)
    make_review(reviewed, reviewer=reviewer)
    make_review(make_article(title="Draft reviewed", published=False), reviewer=reviewer)
    make_review(make_scheduled(title="Scheduled reviewed"), reviewer=reviewer)
    make_review(make_article(title="Changes only"), reviewer=reviewer, outcome=Review.Outcome.CHANGES_REQUESTED)
    make_review(make_article(title="Other reviewer's"))
    page = html(client.get("/reviewers/sam-lee/"))
    assert "<h1>Dr. Sam Lee</h1>" in page and "MD" in page
    assert page.count("Reviewed twice</a>") == 1
    for hidden in ("Draft reviewed", "Scheduled reviewed", "Changes only", "Other reviewer"):
        assert hidden not in page
    assert "sam@private.example" not in page


def test_person_pages_carry_person_json_ld(client):
    """Both pages describe the person as schema.org Person with name, url and credentials, never the email."""
    make_reviewer(name="Dr. Sam Lee", slug="sam-lee", credentials="MD, board-certified in family medicine")
    make_author(name="Dana Reyes", slug="dana-reyes", credentials="RD")
    data = json_ld(html(client.get("/reviewers/sam-lee/")))
    assert data["@type"] == "Person" and data["name"] == "Dr. Sam Lee"
    assert data["url"] == "http://testserver/reviewers/sam-lee/"
    assert data["hasCredential"]["name"] == "MD, board-certified in family medicine"
    assert "email" not in json.dumps(data)
    data = json_ld(html(client.get("/authors/dana-reyes/")))
    assert data["@type"] == "Person" and data["url"] == "http://testserver/authors/dana-reyes/"


def test_unknown_people_are_404(client):
    """A slug nobody has is a 404, as is an impossible page number."""
    make_author(slug="dana")
    assert client.get("/authors/nobody/").status_code == 404
    assert client.get("/reviewers/nobody/").status_code == 404
    assert client.get("/authors/dana/?page=9").status_code == 404


@pytest.mark.parametrize("kind", ["author", "reviewer"])
def test_person_pages_make_a_fixed_number_of_queries(client, django_assert_num_queries, kind):
    """Three articles or twelve, each with tags: the same number of queries (no query per card)."""
    person = make_author(slug="p") if kind == "author" else make_reviewer(slug="p")

    def add(count):
        for _ in range(count):
            article = make_article(tags=["a", "b"], **({"author": person} if kind == "author" else {}))
            if kind == "reviewer":
                make_review(article, reviewer=person)

    url = f"/{kind}s/p/"
    add(3)
    cache.clear()
    # person, count, articles, their tags; the banner and the page cache's next-publication check
    with django_assert_num_queries(6):
        assert client.get(url).status_code == 200
    add(9)
    cache.clear()
    with django_assert_num_queries(6):
        assert client.get(url).status_code == 200


def test_editing_a_reviewer_or_the_disclosure_clears_cached_pages(django_capture_on_commit_callbacks):
    """Through the real page cache: a cached article page and reviewer page show a reviewer's new
    name, and the article its new disclosure wording, at the next request."""
    from articles.models import EditorialSettings
    from tests.site_config.wsgi_client import PageCacheClient

    wsgi = PageCacheClient()
    reviewer = make_reviewer(name="Dr. Sam Lee", slug="sam-lee")
    article = make_article(mentions_publisher_products=True)
    make_review(article, reviewer=reviewer)
    urls = [article.get_absolute_url(), "/reviewers/sam-lee/"]
    for url in urls:
        assert "Dr. Sam Lee" in wsgi.get(url).text
        assert not wsgi.get(url).from_django  # served from the page cache now
    with django_capture_on_commit_callbacks(execute=True):
        reviewer.name = "Dr. Samantha Lee"
        reviewer.save()
        settings = EditorialSettings.load()
        settings.product_disclosure = "We sell this."
        settings.save()
    assert "Dr. Samantha Lee" in wsgi.get(urls[1]).text
    page = wsgi.get(urls[0]).text
    assert "Dr. Samantha Lee" in page and "We sell this." in page


@pytest.mark.usefixtures("media_root")
def test_a_reviewer_photo_from_the_library_shows_on_their_page_and_in_json_ld(client):
    """The optional portrait: a <picture> with the library's alt text, and the Person's image,
    in the same number of queries as a reviewer without one."""
    photo = image_files.make_image(alt_text="Portrait of Dr. Sam Lee")
    make_reviewer(name="Dr. Sam Lee", slug="sam-lee", photo=photo)
    make_reviewer(name="Dr. Ann Wu", slug="ann-wu")
    cache.clear()
    with CaptureQueriesContext(connection) as with_photo:
        page = html(client.get("/reviewers/sam-lee/"))
    assert re.search(r'<picture class="person-photo">.*alt="Portrait of Dr. Sam Lee"', page)
    assert json_ld(page)["image"] == f"http://testserver/media/{photo.file.name}"
    cache.clear()
    with CaptureQueriesContext(connection) as without_photo:
        page = html(client.get("/reviewers/ann-wu/"))
    assert "person-photo" not in page and "image" not in json_ld(page)
    assert len(with_photo) == len(without_photo)


@pytest.mark.usefixtures("media_root")
def test_the_article_json_ld_names_the_reviewer_with_their_photo(client):
    photo = image_files.make_image(alt_text="Portrait of Dr. Sam Lee")
    article = make_article(title="Zinc")
    make_review(article, reviewer=make_reviewer(name="Dr. Sam Lee", slug="sam-lee", photo=photo))
    page = html(client.get(article.get_absolute_url()))
    assert f'"image": "http://testserver/media/{photo.file.name}"' in page or (
        f'"image":"http://testserver/media/{photo.file.name}"' in page
    )


@pytest.mark.usefixtures("media_root")
def test_a_reviewer_photo_cannot_be_deleted_from_the_library(client):
    """The admin's delete page names the reviewer instead of deleting the image."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from articles.models import Image
    from tests.helpers import log_in_staff

    staff = log_in_staff(client, get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    photo = image_files.make_image()
    make_reviewer(name="Dr. Sam Lee", slug="sam-lee", photo=photo)
    response = staff.post(reverse("admin:articles_image_delete", args=[photo.pk]), {"post": "yes"})
    assert response.status_code == 200
    assert "Dr. Sam Lee" in response.content.decode()
    assert Image.objects.filter(pk=photo.pk).exists()
