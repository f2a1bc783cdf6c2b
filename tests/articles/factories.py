"""Plain factory functions for articles; every argument has a sensible default."""

import itertools
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from articles.models import Article, Author, Reference, Review, Reviewer

_sequence = itertools.count(1)


def make_author(**fields):
    n = next(_sequence)
    fields.setdefault("name", f"Author {n}")
    fields.setdefault("slug", f"author-{n}")
    fields.setdefault("credentials", "MSc, Registered Dietitian")
    fields.setdefault("bio", "Writes about nutrition.")
    return Author.objects.create(**fields)


def make_article(*, tags=(), references=(), published=True, days_ago=1, **fields):
    """A published article (by default) from `days_ago` days ago, with the given tags and references."""
    n = next(_sequence)
    fields.setdefault("title", f"Article number {n}")
    fields.setdefault("slug", f"article-{n}")
    fields.setdefault("summary", f"Summary of article {n}.")
    fields.setdefault(
        "body", f"Intro of article {n}.\n\n## First section\n\nText.\n\n## Second section\n\nMore text.\n"
    )
    if published:
        fields.setdefault("status", Article.Status.PUBLISHED)
        fields.setdefault("published_at", timezone.now() - timedelta(days=days_ago))
    else:
        fields.setdefault("status", Article.Status.DRAFT)
    article = Article.objects.create(**fields)
    if tags:
        article.tags.set(list(tags))
    for position, (title, url) in enumerate(references):
        Reference.objects.create(article=article, position=position, title=title, url=url)
    return article


def make_reviewer(**fields):
    n = next(_sequence)
    fields.setdefault("name", f"Dr. Reviewer {n}")
    fields.setdefault("slug", f"reviewer-{n}")
    fields.setdefault("credentials", "MD")
    fields.setdefault("bio", "Reviews articles on supplements.")
    fields.setdefault("email", f"reviewer{n}@example.org")
    return Reviewer.objects.create(**fields)


def make_review(article, *, reviewer=None, reviewed_on=None, outcome=Review.Outcome.APPROVED, notes=""):
    """A review row as the admin's inline would save it (no new article version of its own)."""
    return Review.objects.create(
        article=article,
        reviewer=reviewer if reviewer is not None else make_reviewer(),
        reviewed_on=reviewed_on or timezone.localdate(),
        outcome=outcome,
        notes=notes,
    )


def make_scheduled(**fields):
    """Published status with a publication time tomorrow: not public yet."""
    return make_article(published_at=timezone.now() + timedelta(days=1), **fields)


def make_editor(username="editor", *, superuser=False):
    """A staff user who may change articles (preview, admin), or a superuser."""
    user_model = get_user_model()
    if superuser:
        return user_model.objects.create_superuser(username, f"{username}@example.com", "pw-for-tests")
    user = user_model.objects.create_user(username, f"{username}@example.com", "pw-for-tests", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_article", content_type__app_label="articles"))
    return user


def article_form_data(**overrides):
    """The article admin's add/change form as a browser posts it: published five minutes ago,
    two references (positions given out of order), no reviews; `overrides` replace fields."""
    now = timezone.now()
    data = {
        "title": "Zinc and colds",
        "slug": "zinc-and-colds",
        "summary": "What the studies say.",
        "body": "Lead.\n\n## Evidence\n\nSome.",
        "tags": "zinc, common cold",
        "status": "published",
        "published_at_0": now.strftime("%Y-%m-%d"),
        "published_at_1": (now - timedelta(minutes=5)).strftime("%H:%M:%S"),
        "author": "",
        "assigned_reviewer": "",
        "review_interval_months": "",
        "reviews-TOTAL_FORMS": "0",
        "reviews-INITIAL_FORMS": "0",
        "reviews-MIN_NUM_FORMS": "0",
        "reviews-MAX_NUM_FORMS": "1000",
        "references-TOTAL_FORMS": "2",
        "references-INITIAL_FORMS": "0",
        "references-MIN_NUM_FORMS": "0",
        "references-MAX_NUM_FORMS": "1000",
        "references-0-position": "1",
        "references-0-title": "Second source",
        "references-0-url": "https://example.org/2",
        "references-1-position": "0",
        "references-1-title": "First source",
        "references-1-url": "https://example.org/1",
    }
    data.update(overrides)
    return data
