"""The review side of the admin: the queue, bulk assignment, recording a review, the index count,
reviews and structured references on the article form, the editorial settings."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, EditorialSettings, Review
from tests.articles.factories import article_form_data, make_article, make_review, make_reviewer
from tests.helpers import log_in_staff

pytestmark = pytest.mark.django_db
QUEUE = "/admin/articles/article/review-queue/"


@pytest.fixture
def editor_client(client):
    """A staff user in the Editors group made by setup_roles."""
    call_command("setup_roles", stdout=None)
    user = get_user_model().objects.create_user("ed", "ed@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    log_in_staff(client, user)
    return client


def test_queue_shows_three_groups_with_assigned_reviewers(editor_client):
    """Overdue, due soon and never reviewed articles appear in their section with the assigned reviewer."""
    today = timezone.localdate()
    sam = make_reviewer(name="Dr. Sam Lee")
    overdue = make_article(title="Overdue piece", days_ago=800, assigned_reviewer=sam)
    make_review(overdue, reviewed_on=today - timedelta(days=400))
    soon = make_article(title="Soon piece", days_ago=800)
    make_review(soon, reviewed_on=today - timedelta(days=355))
    make_article(title="Never piece")
    make_article(title="Draft piece", published=False)
    page = editor_client.get(QUEUE).content.decode()
    sections = {
        key: page.split(f'id="queue-{key}"')[1].split("</table>")[0]
        for key in ("overdue", "due_soon", "never_reviewed")
    }
    assert "Overdue piece" in sections["overdue"] and "Dr. Sam Lee" in sections["overdue"]
    assert "Soon piece" in sections["due_soon"]
    assert "Never piece" in sections["never_reviewed"]
    assert "Draft piece" not in page


def test_bulk_assignment_sets_the_reviewer_and_records_versions(editor_client):
    """Selecting articles and a reviewer assigns them all; each article gets a version saying so."""
    sam = make_reviewer(name="Dr. Sam Lee")
    first, second = make_article(), make_article()
    response = editor_client.post(QUEUE, {"articles": [first.pk, second.pk], "reviewer": sam.pk})
    assert response.status_code == 302
    assert set(Article.objects.filter(assigned_reviewer=sam)) == {first, second}
    assert first.history.first().history_change_reason == "Reviewer assigned: Dr. Sam Lee"
    assert first.history.first().history_user.username == "ed"
    editor_client.post(QUEUE, {"articles": [first.pk], "reviewer": ""})
    assert Article.objects.get(pk=first.pk).assigned_reviewer is None


def test_recording_a_review_from_the_queue(editor_client):
    """The form defaults to the assigned reviewer; posting it records an approved review shown on the page."""
    sam = make_reviewer(name="Dr. Sam Lee", slug="sam-lee")
    article = make_article(assigned_reviewer=sam)
    url = reverse("admin:articles_article_record_review", args=[article.pk])
    form_page = editor_client.get(url).content.decode()
    assert f'<option value="{sam.pk}" selected>' in form_page
    response = editor_client.post(
        url, {"reviewer": sam.pk, "reviewed_on": "2026-11-30", "outcome": "approved", "notes": "Checked doses."}
    )
    assert response.status_code == 302
    review = Review.objects.get()
    assert (review.reviewer, review.reviewed_on, review.notes) == (sam, date(2026, 11, 30), "Checked doses.")
    public = editor_client.get(article.get_absolute_url()).content.decode()
    assert "Medically reviewed by" in public and "Checked doses." not in public


def test_recording_needs_a_reviewer_and_a_date(editor_client):
    """An incomplete form is shown again with errors; nothing is recorded."""
    article = make_article()
    url = reverse("admin:articles_article_record_review", args=[article.pk])
    response = editor_client.post(url, {"reviewer": "", "reviewed_on": "", "outcome": "approved"})
    assert response.status_code == 200 and b"This field is required." in response.content
    assert not Review.objects.exists()


def test_admin_index_shows_the_overdue_count(editor_client):
    """The admin's front page says how many published articles are overdue, linking to the queue."""
    make_article(days_ago=800)
    make_article(days_ago=500)
    make_article()
    page = editor_client.get("/admin/").content.decode()
    assert f'<a href="{QUEUE}">Medical review queue</a>: 2 articles overdue for review.' in page


def test_queue_is_for_staff_with_article_permissions(client):
    """Anonymous visitors are sent to the login; staff without article permissions are refused."""
    assert client.get(QUEUE).status_code == 302
    user = get_user_model().objects.create_user("nobody", "n@example.com", "pw", is_staff=True)
    log_in_staff(client, user)
    assert client.get(QUEUE).status_code == 403
    assert "Medical review queue" not in client.get("/admin/").content.decode()


def test_article_form_records_reviews_and_structured_references(editor_client):
    """The article form saves a review inline and references with authors, journal, year, DOI and PMID."""
    sam = make_reviewer()
    data = article_form_data()
    data.update(
        {
            "references-0-authors": "Garrison SR, Korownyk CS",
            "references-0-journal": "Cochrane Database Syst Rev",
            "references-0-year": "2020",
            "references-0-doi": "https://doi.org/10.1002/14651858.CD009402.pub3",
            "references-0-pmid": "PMID: 32956536",
            "reviews-TOTAL_FORMS": "1",
            "reviews-0-reviewer": sam.pk,
            "reviews-0-reviewed_on": "2026-11-01",
            "reviews-0-outcome": "approved",
            "reviews-0-notes": "",
        }
    )
    response = editor_client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 302
    article = Article.objects.get(slug="zinc-and-colds")
    second = article.references.get(title="Second source")
    assert (second.doi, second.pmid, second.year) == ("10.1002/14651858.CD009402.pub3", "32956536", 2020)
    assert article.reviews.get().reviewer == sam
    assert article.history.first().reviews_snapshot[0]["reviewed_on"] == "2026-11-01"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("doi", "10.12/abc", "is not a DOI"), ("doi", "hello", "is not a DOI"), ("pmid", "12a4", "is not a PubMed ID")],
)
def test_article_form_explains_a_bad_doi_or_pmid(editor_client, field, value, message):
    """A DOI or PMID in the wrong format is refused with a clear message; the article is not saved."""
    data = article_form_data()
    data[f"references-0-{field}"] = value
    response = editor_client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Article.objects.exists()


def test_editorial_settings_edit_the_disclosure_wording(editor_client, client):
    """The settings list opens the one row; its wording is what marked articles show."""
    response = editor_client.get(reverse("admin:articles_editorialsettings_changelist"))
    assert response.status_code == 302
    change = response["Location"]
    assert editor_client.post(change, {"product_disclosure": "We sell Magnesium Balance."}).status_code == 302
    assert EditorialSettings.load().product_disclosure == "We sell Magnesium Balance."
    assert EditorialSettings.objects.count() == 1
    page = client.get(make_article(mentions_publisher_products=True).get_absolute_url()).content.decode()
    assert "We sell Magnesium Balance." in page
