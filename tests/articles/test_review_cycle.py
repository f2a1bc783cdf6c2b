"""The review cycle: "Updated" versus "Reviewed", JSON-LD, due dates, the queue's groups, history."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache

from articles.history import compare
from articles.models import Article, Review
from articles.review_cycle import add_months, assign_reviewer, overdue_count, record_review, review_queue
from tests.articles.factories import make_article, make_review, make_reviewer

pytestmark = pytest.mark.django_db

JAN_2025 = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


def page_of(client, article):
    cache.clear()
    return client.get(article.get_absolute_url()).content.decode()


def json_ld(page):
    (block,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return json.loads(block)


def graph_node(data, node_type):
    """The one node of `node_type` in the article page's JSON-LD @graph."""
    (node,) = [node for node in data["@graph"] if node["@type"] == node_type]
    return node


def test_add_months_keeps_the_day_or_the_month_end():
    """12 months after 29 February is 28 February; 1 month after 31 January is the end of February."""
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)


def test_a_review_does_not_move_updated_and_an_edit_is_not_a_review(client):
    """Recording a review changes "Reviewed" only; editing the text changes "Updated" only."""
    reviewer = make_reviewer(name="Dr. Sam Lee", slug="sam-lee", credentials="MD")
    with time_machine.travel(JAN_2025, tick=False):
        article = make_article(published_at=JAN_2025)
    with time_machine.travel(JAN_2025 + timedelta(days=30), tick=False):
        record_review(article=Article.objects.get(pk=article.pk), reviewer=reviewer, reviewed_on=date(2025, 2, 9))
    article.refresh_from_db()
    assert article.text_updated_at == JAN_2025
    page = page_of(client, article)
    assert "Updated <time" not in page
    assert (
        '<a href="/reviewers/sam-lee/">Dr. Sam Lee</a>, MD, on <time datetime="2025-02-09">9 February 2025</time>'
        in page
    )

    with time_machine.travel(JAN_2025 + timedelta(days=60), tick=False):
        article = Article.objects.get(pk=article.pk)
        article.body += "\n\nA new paragraph."
        article.save()
    page = page_of(client, article)
    assert "Updated <time" in page and "11 March 2025" in page
    assert 'on <time datetime="2025-02-09">' in page  # still the same review


def test_saving_without_a_text_change_keeps_updated():
    """Status, tags or the assigned reviewer change: "Updated" stays; a summary change moves it."""
    with time_machine.travel(JAN_2025, tick=False):
        article = make_article(published_at=JAN_2025)
    with time_machine.travel(JAN_2025 + timedelta(days=5), tick=False):
        article = Article.objects.get(pk=article.pk)
        article.assigned_reviewer = make_reviewer()
        article.save()
        article.tags.add("new tag")
        assert Article.objects.get(pk=article.pk).text_updated_at == JAN_2025
        article.summary = "A better summary."
        article.save(update_fields=["summary"])
        assert Article.objects.get(pk=article.pk).text_updated_at == JAN_2025 + timedelta(days=5)


def test_json_ld_has_last_reviewed_reviewed_by_and_date_modified(client):
    """lastReviewed is the latest approved review's date, reviewedBy its Person, dateModified the last text edit."""
    old, latest = make_reviewer(name="Dr. Old"), make_reviewer(name="Dr. Sam Lee", slug="sam-lee", credentials="MD")
    with time_machine.travel(JAN_2025, tick=False):
        article = make_article(published_at=JAN_2025)
    make_review(article, reviewer=old, reviewed_on=date(2025, 2, 1))
    make_review(article, reviewer=latest, reviewed_on=date(2025, 3, 1))
    make_review(article, reviewer=old, reviewed_on=date(2025, 4, 1), outcome=Review.Outcome.CHANGES_REQUESTED)
    data = json_ld(page_of(client, article))
    page, entry = graph_node(data, "MedicalWebPage"), graph_node(data, "Article")
    assert page["lastReviewed"] == "2025-03-01"
    assert page["reviewedBy"] == {
        "@type": "Person",
        "name": "Dr. Sam Lee",
        "url": "http://testserver/reviewers/sam-lee/",
        "description": "MD",
        "hasCredential": {"@type": "EducationalOccupationalCredential", "name": "MD"},
    }
    assert page["dateModified"] == entry["dateModified"]
    assert entry["dateModified"].startswith("2025-01-10T09:00:00")
    assert "lastReviewed" not in entry and "reviewedBy" not in entry


def test_an_article_never_reviewed_has_no_review_line_nor_review_json_ld(client):
    """No approved review: no "Medically reviewed" line, no lastReviewed or reviewedBy."""
    article = make_article()
    make_review(article, outcome=Review.Outcome.CHANGES_REQUESTED)
    page = page_of(client, article)
    assert "Medically reviewed" not in page
    for node in json_ld(page)["@graph"]:
        assert "lastReviewed" not in node and "reviewedBy" not in node


def test_queue_groups_follow_the_calendar(settings):
    """Overdue, due within 30 days and never reviewed, before and after the clock moves on a year."""
    settings.REVIEW_INTERVAL_MONTHS = 12
    with time_machine.travel(JAN_2025, tick=False):
        reviewed = make_article(title="Reviewed", published_at=JAN_2025 - timedelta(days=400))
        make_review(reviewed, reviewed_on=date(2024, 3, 1))  # due 2025-03-01
        make_article(title="Never", published_at=JAN_2025 - timedelta(days=10))
        fresh = make_article(title="Fresh", published_at=JAN_2025)
        make_review(fresh, reviewed_on=date(2025, 1, 10))  # due 2026-01-10
        make_article(title="Draft", published=False)

    def groups(today):
        return {key: [entry.article.title for entry in entries] for key, entries in review_queue(today=today).items()}

    with time_machine.travel(JAN_2025, tick=False):
        assert groups(None) == {"overdue": [], "due_soon": [], "never_reviewed": ["Never"]}
        assert overdue_count() == 0
    with time_machine.travel(datetime(2025, 2, 15, tzinfo=UTC), tick=False):
        assert groups(None) == {"overdue": [], "due_soon": ["Reviewed"], "never_reviewed": ["Never"]}
    with time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC), tick=False):
        assert groups(None) == {"overdue": ["Reviewed"], "due_soon": ["Fresh"], "never_reviewed": ["Never"]}
        # "Never" was due on 2025-12-31: it counts as overdue on the admin index.
        assert overdue_count() == 2


def test_the_interval_comes_from_the_setting_or_the_article(settings):
    """REVIEW_INTERVAL_MONTHS sets the default; an article's own interval wins."""
    settings.REVIEW_INTERVAL_MONTHS = 6
    with time_machine.travel(JAN_2025, tick=False):
        default = make_article(title="Default")
        make_review(default, reviewed_on=date(2025, 1, 10))
        own = make_article(title="Own", review_interval_months=24)
        make_review(own, reviewed_on=date(2025, 1, 10))
    entries = {e.article.title: e.due_on for e in review_queue(today=date(2025, 7, 1))["due_soon"]}
    assert entries == {"Default": date(2025, 7, 10)}
    settings.REVIEW_INTERVAL_MONTHS = 12
    assert review_queue(today=date(2025, 7, 1))["due_soon"] == []


def test_recording_and_assigning_are_versions_in_the_history():
    """Assigning a reviewer and recording a review each add a version; compare shows the review."""
    article = make_article()
    reviewer = make_reviewer(name="Dr. Sam Lee")
    before = article.history.count()
    assert assign_reviewer(articles=[article], reviewer=reviewer) == 1
    assert assign_reviewer(articles=[article], reviewer=reviewer) == 0  # unchanged: no version
    record_review(article=article, reviewer=reviewer, reviewed_on=date(2025, 5, 1))
    versions = list(article.history.order_by("-history_date", "-history_id"))
    assert len(versions) == before + 2
    assert versions[0].history_change_reason.startswith("Review recorded: Approved by Dr. Sam Lee")
    assert versions[0].reviews_snapshot == [
        {"reviewer": "Dr. Sam Lee", "reviewed_on": "2025-05-01", "outcome": "approved"}
    ]
    assert versions[1].history_change_reason == "Reviewer assigned: Dr. Sam Lee"
    rows = {row["field"]: row for row in compare(versions[1], versions[0])}
    assert rows["reviews"]["changed"] and "approved by Dr. Sam Lee" in rows["reviews"]["new"]
    # Deleting a review (clearing review data) is recorded too.
    article.reviews.get().delete()
    assert article.history.order_by("-history_date", "-history_id").first().reviews_snapshot == []


def test_a_review_needs_a_known_outcome():
    """full_clean() refuses an outcome other than approved or changes requested; nothing is saved."""
    from django.core.exceptions import ValidationError

    article = make_article()
    with pytest.raises(ValidationError):
        record_review(article=article, reviewer=make_reviewer(), reviewed_on=date(2025, 5, 1), outcome="maybe")
    assert not Review.objects.exists()
