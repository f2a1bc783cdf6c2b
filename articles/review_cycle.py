"""The medical review cycle: when each published article is due, the queue, recording reviews.

An article is due `interval` months after its last approved review, or after its publication
when it was never reviewed; the interval is the article's own or REVIEW_INTERVAL_MONTHS.
Recording a review or assigning a reviewer saves the article with a change reason, so it
appears in the article's version history like every other edit (and the page cache is
cleared); neither moves the "Updated" date, which follows the text only.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from .models import Article, Review

DUE_SOON_DAYS = 30


def add_months(day, months):
    """`day` plus whole months; the 31st becomes the month's last day when it has fewer."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def interval_months(article):
    return article.review_interval_months or settings.REVIEW_INTERVAL_MONTHS


@dataclass
class QueueEntry:
    article: Article
    last_reviewed_on: date | None
    due_on: date

    @property
    def never_reviewed(self):
        return self.last_reviewed_on is None

    def is_overdue(self, today):
        return self.due_on < today


def _entries(queryset):
    """QueueEntry for each published article of `queryset` (one query), soonest due first."""
    articles = (
        queryset.published()
        .select_related("assigned_reviewer")
        .annotate(last_reviewed_on=Max("reviews__reviewed_on", filter=Q(reviews__outcome=Review.Outcome.APPROVED)))
        .only("title", "slug", "status", "published_at", "review_interval_months", "assigned_reviewer")
        .order_by()
    )
    entries = []
    for article in articles:
        start = article.last_reviewed_on or timezone.localdate(article.published_at)
        entries.append(QueueEntry(article, article.last_reviewed_on, add_months(start, interval_months(article))))
    entries.sort(key=lambda entry: (entry.due_on, entry.article.title))
    return entries


def review_queue(*, today=None):
    """The admin's queue: {"overdue", "due_soon", "never_reviewed"}, each a list of QueueEntry.

    "never_reviewed": published articles without an approved review, whatever their due date.
    "overdue" and "due_soon" (due within 30 days): articles reviewed before whose next review
    is due. Each article is in at most one group.
    """
    today = today or timezone.localdate()
    soon = today + timedelta(days=DUE_SOON_DAYS)
    groups = {"overdue": [], "due_soon": [], "never_reviewed": []}
    for entry in _entries(Article.objects.all()):
        if entry.never_reviewed:
            groups["never_reviewed"].append(entry)
        elif entry.due_on < today:
            groups["overdue"].append(entry)
        elif entry.due_on <= soon:
            groups["due_soon"].append(entry)
    return groups


def overdue_count(*, today=None):
    """Published articles past their due date, reviewed before or not (the admin index shows it)."""
    today = today or timezone.localdate()
    return sum(1 for entry in _entries(Article.objects.all()) if entry.due_on < today)


def due_for_reviewer(reviewer, *, today=None):
    """(overdue, due_soon) entries of the published articles assigned to `reviewer`."""
    today = today or timezone.localdate()
    soon = today + timedelta(days=DUE_SOON_DAYS)
    entries = _entries(Article.objects.filter(assigned_reviewer=reviewer))
    return (
        [entry for entry in entries if entry.due_on < today],
        [entry for entry in entries if today <= entry.due_on <= soon],
    )


@transaction.atomic
def record_review(*, article, reviewer, reviewed_on, outcome=Review.Outcome.APPROVED, notes="", user=None):
    """Record a review; the article gets a new version saying so. Returns the Review."""
    review = Review(article=article, reviewer=reviewer, reviewed_on=reviewed_on, outcome=outcome, notes=notes)
    review.full_clean()
    article._history_user = user
    article._change_reason = f"Review recorded: {review}"[:100]
    article.save()  # the new version; the snapshot is completed once the review exists
    review.save()
    article.refresh_history_snapshot()
    return review


@transaction.atomic
def assign_reviewer(*, articles, reviewer, user=None):
    """Make `reviewer` (or nobody, with None) the next reviewer of each article; returns how many changed."""
    changed = 0
    reviewer_id = reviewer.pk if reviewer else None
    for article in articles:
        if article.assigned_reviewer_id == reviewer_id:
            continue
        article.assigned_reviewer = reviewer
        article._history_user = user
        article._change_reason = (f"Reviewer assigned: {reviewer.name}" if reviewer else "Reviewer unassigned")[:100]
        article.save()
        changed += 1
    return changed
