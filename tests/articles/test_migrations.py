"""The data migrations of issue 13, run for real: old free-text review fields become reviewers and
reviews without losing any value, saved versions keep theirs, and the seed article gets its disclosure."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("articles", "0006_reviews_citations_disclosure")]
AFTER = [("articles", "0009_remove_free_text_review")]
PUBLISHED = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_apps():
    """The schema as it was before the data migration; migrated to the latest afterwards, always."""
    apps = migrate(BEFORE)
    yield apps
    migrate([("articles", leaf) for app, leaf in MigrationExecutor(connection).loader.graph.leaf_nodes("articles")])


@pytest.mark.django_db(transaction=True)
def test_free_text_reviews_become_reviewers_and_reviews(old_apps):
    """Every reviewed_by/reviewed_at value survives: one reviewer per distinct text, one approved review
    per article, the reviewer assigned, dates kept (or the publication date when none was given),
    the old values quoted in the notes, and saved versions' review data in reviews_snapshot."""
    Article = old_apps.get_model("articles", "Article")
    HistoricalArticle = old_apps.get_model("articles", "HistoricalArticle")

    def article(slug, **fields):
        return Article.objects.create(
            title=slug, slug=slug, summary="s", body="b", status="published", published_at=PUBLISHED, **fields
        )

    both = article("both", reviewed_by="Dr. Sam Lee, MD, board-certified", reviewed_at=date(2025, 3, 1))
    same = article("same-reviewer", reviewed_by="Dr. Sam Lee, MD, board-certified", reviewed_at=date(2025, 4, 1))
    no_date = article("no-date", reviewed_by="Dana Reyes")
    no_name = article("no-name", reviewed_at=date(2025, 6, 1))
    article("never")
    seed = article("magnesium-and-leg-cramps")
    HistoricalArticle.objects.create(
        id=both.pk, title="both", slug="both", summary="s", body="b", status="published", published_at=PUBLISHED,
        created_at=PUBLISHED, updated_at=PUBLISHED, history_date=PUBLISHED, history_type="~",
        reviewed_by="Dr. Old, PhD", reviewed_at=date(2024, 1, 2),
    )  # fmt: skip

    new_apps = migrate(AFTER)
    Reviewer = new_apps.get_model("articles", "Reviewer")
    Review = new_apps.get_model("articles", "Review")
    NewArticle = new_apps.get_model("articles", "Article")
    NewHistorical = new_apps.get_model("articles", "HistoricalArticle")

    assert sorted(Reviewer.objects.values_list("name", "credentials", "slug")) == [
        ("Dana Reyes", "", "dana-reyes"),
        ("Dr. Sam Lee", "MD, board-certified", "dr-sam-lee"),
    ]
    reviews = {r.article.slug: r for r in Review.objects.select_related("article", "reviewer")}
    assert set(reviews) == {"both", "same-reviewer", "no-date", "no-name"}
    assert all(r.outcome == "approved" for r in reviews.values())
    assert reviews["both"].reviewer_id == reviews["same-reviewer"].reviewer_id
    assert reviews["both"].reviewed_on == date(2025, 3, 1)
    assert "“Dr. Sam Lee, MD, board-certified”" in reviews["both"].notes
    assert reviews["no-date"].reviewed_on == date(2024, 5, 6)
    assert "No review date was recorded" in reviews["no-date"].notes
    assert reviews["no-name"].reviewer is None and reviews["no-name"].reviewed_on == date(2025, 6, 1)

    articles = {a.slug: a for a in NewArticle.objects.all()}
    assert articles["both"].assigned_reviewer_id == reviews["both"].reviewer_id
    assert articles["no-name"].assigned_reviewer_id is None
    assert all(a.text_updated_at == a.updated_at for a in articles.values())
    assert articles["magnesium-and-leg-cramps"].mentions_publisher_products
    assert not articles["both"].mentions_publisher_products
    assert seed.pk == articles["magnesium-and-leg-cramps"].pk and no_date.pk and no_name.pk and same.pk

    version = NewHistorical.objects.get(id=both.pk)
    assert version.reviews_snapshot == [{"reviewer": "Dr. Old", "reviewed_on": "2024-01-02", "outcome": "approved"}]
