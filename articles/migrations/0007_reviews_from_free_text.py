"""Carry the old free-text review fields (`reviewed_by`, `reviewed_at`) into reviewers and reviews.

Each distinct `reviewed_by` text becomes one Reviewer ("Dr. Sam Lee, MD": name "Dr. Sam Lee",
credentials "MD") and each article with review data gets one approved Review, the same reviewer
assigned for the next one. Nothing is dropped: a review without a date is dated from the
article's publication (the earliest it can have been, so it falls due no later than it should),
one without a name keeps no reviewer, and the notes quote the old values word for word. Saved
versions get the same data in `reviews_snapshot`. "Updated" starts as the last save.
"""

from django.db import migrations
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify


def _split(text):
    name, _, credentials = text.partition(",")
    return name.strip() or text.strip(), credentials.strip()


def _unique_slug(Reviewer, name):
    base = slugify(name)[:100] or "reviewer"
    slug, n = base, 1
    while Reviewer.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def forwards(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    HistoricalArticle = apps.get_model("articles", "HistoricalArticle")
    Reviewer = apps.get_model("articles", "Reviewer")
    Review = apps.get_model("articles", "Review")

    Article.objects.update(text_updated_at=F("updated_at"))
    HistoricalArticle.objects.update(text_updated_at=F("updated_at"))

    reviewers = {}
    with_review = Article.objects.exclude(reviewed_by="", reviewed_at__isnull=True).order_by("pk")
    for article in with_review:
        text = article.reviewed_by.strip()
        reviewer = None
        if text:
            if text not in reviewers:
                name, credentials = _split(text)
                reviewers[text] = Reviewer.objects.create(
                    name=name[:120], credentials=credentials[:200], slug=_unique_slug(Reviewer, name)
                )
            reviewer = reviewers[text]
        if article.reviewed_at:
            reviewed_on, note = article.reviewed_at, ""
        else:
            reviewed_on = timezone.localdate(article.published_at or article.created_at)
            note = " No review date was recorded: dated from the article's publication."
        Review.objects.create(
            article=article,
            reviewer=reviewer,
            reviewed_on=reviewed_on,
            outcome="approved",
            notes=f"Carried over from the old fields: reviewed by “{article.reviewed_by}”, "
            f"reviewed at “{article.reviewed_at or ''}”.{note}",
        )
        if reviewer is not None:
            Article.objects.filter(pk=article.pk).update(assigned_reviewer=reviewer)

    versions = HistoricalArticle.objects.filter(~Q(reviewed_by="") | Q(reviewed_at__isnull=False))
    for version in versions.iterator():
        name = _split(version.reviewed_by)[0] if version.reviewed_by.strip() else ""
        snapshot = [
            {
                "reviewer": name,
                "reviewed_on": version.reviewed_at.isoformat() if version.reviewed_at else "",
                "outcome": "approved",
            }
        ]
        HistoricalArticle.objects.filter(pk=version.pk).update(reviews_snapshot=snapshot)


def backwards(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    Review = apps.get_model("articles", "Review")
    for article in Article.objects.all():
        review = (
            Review.objects.filter(article=article, outcome="approved")
            .select_related("reviewer")
            .order_by("-reviewed_on", "-id")
            .first()
        )
        if review is None:
            continue
        reviewer = review.reviewer
        text = ", ".join(part for part in (reviewer.name, reviewer.credentials) if part) if reviewer else ""
        Article.objects.filter(pk=article.pk).update(reviewed_by=text[:200], reviewed_at=review.reviewed_on)


class Migration(migrations.Migration):
    dependencies = [("articles", "0006_reviews_citations_disclosure")]

    operations = [migrations.RunPython(forwards, backwards)]
