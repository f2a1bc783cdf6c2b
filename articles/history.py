"""Versions of an article: compare two, restore one (its tags and references included)."""

import difflib

from django.db import transaction

from .models import Article, Author, Image, Reference, Reviewer
from .models.articles import SNAPSHOT_REFERENCE_FIELDS

# The fields a version restores; created_at/updated_at and body_html follow from saving.
VERSIONED_FIELDS = [
    "title",
    "slug",
    "summary",
    "body",
    "status",
    "published_at",
    "author_id",
    "hero_image_id",
    "mentions_publisher_products",
    "assigned_reviewer_id",
    "review_interval_months",
]
# Reviews are shown in each version but not restored: a review took place whatever the text
# became afterwards.
SNAPSHOT_FIELDS = ["tag_names", "references_snapshot", "reviews_snapshot"]
RESTORED_REFERENCE_FIELDS = [name for name in SNAPSHOT_REFERENCE_FIELDS if name != "position"]
LABELS = {
    "author_id": "author",
    "hero_image_id": "hero image",
    "assigned_reviewer_id": "assigned reviewer",
    "tag_names": "tags",
    "references_snapshot": "references",
    "reviews_snapshot": "reviews",
}


def _value(version, field):
    """A field of a historical record, or of the live article when `version` is an Article."""
    if isinstance(version, Article) and field in SNAPSHOT_FIELDS:
        return version.snapshot()[field]
    return getattr(version, field)


def reference_text(ref):
    """One line for a reference snapshot (old snapshots have only title and url)."""
    parts = [ref.get("authors"), ref.get("title"), ref.get("journal"), ref.get("year")]
    ids = [f"doi:{ref['doi']}" if ref.get("doi") else "", f"PMID {ref['pmid']}" if ref.get("pmid") else ""]
    ids.append(f"<{ref['url']}>" if ref.get("url") else "")
    return ". ".join(str(part) for part in parts if part) + "".join(f" {i}" for i in ids if i)


def _display(field, value, people):
    if value in (None, "", []):
        return ""
    if field in ("author_id", "assigned_reviewer_id", "hero_image_id"):
        kind = {"author_id": "author", "assigned_reviewer_id": "reviewer", "hero_image_id": "image"}[field]
        return str(people[field].get(value, f"(deleted {kind} #{value})"))
    if field == "tag_names":
        return ", ".join(value)
    if field == "references_snapshot":
        return "\n".join(reference_text(ref) for ref in value)
    if field == "reviews_snapshot":
        return "\n".join(
            f"{review['reviewed_on']} {review['outcome']} by {review['reviewer'] or 'unknown'}" for review in value
        )
    return str(value)


def compare(older, newer):
    """Rows (label, old text, new text, changed, diff lines) for two versions of one article."""
    fields = VERSIONED_FIELDS + SNAPSHOT_FIELDS
    people = {
        "author_id": Author.objects.in_bulk({_value(v, "author_id") for v in (older, newer)} - {None}),
        "assigned_reviewer_id": Reviewer.objects.in_bulk(
            {_value(v, "assigned_reviewer_id") for v in (older, newer)} - {None}
        ),
        "hero_image_id": Image.objects.in_bulk({_value(v, "hero_image_id") for v in (older, newer)} - {None}),
    }
    rows = []
    for field in fields:
        old = _display(field, _value(older, field), people)
        new = _display(field, _value(newer, field), people)
        diff = []
        if old != new and ("\n" in old or "\n" in new):
            diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), "older", "newer", lineterm="", n=1))
        label = LABELS.get(field, field)
        rows.append({"field": label.replace("_", " "), "old": old, "new": new, "changed": old != new, "diff": diff})
    return rows


@transaction.atomic
def restore_version(article, version, *, user=None):
    """Make `article` what it was at `version`: fields, tags and references. Saves a new version.

    Review records stay as they are (a review happened whatever the text became); the
    assigned reviewer and the review interval are restored like other fields.

    Raises ValidationError when the old slug now belongs to another article.
    """
    for field in VERSIONED_FIELDS:
        setattr(article, field, getattr(version, field))
    if article.author_id is not None and not Author.objects.filter(pk=article.author_id).exists():
        article.author_id = None
    if article.hero_image_id is not None and not Image.objects.filter(pk=article.hero_image_id).exists():
        article.hero_image_id = None  # deleted from the library since
    reviewer_id = article.assigned_reviewer_id
    if reviewer_id is not None and not Reviewer.objects.filter(pk=reviewer_id).exists():
        article.assigned_reviewer_id = None
    article.validate_unique()
    article._history_user = user
    article._change_reason = f"Restored the version of {version.history_date:%Y-%m-%d %H:%M} UTC"[:100]
    article.save()
    article.tags.set(version.tag_names or [])
    article.references.all().delete()
    Reference.objects.bulk_create(
        Reference(
            article=article,
            **{name: ref[name] for name in RESTORED_REFERENCE_FIELDS if ref.get(name) is not None},
            position=ref.get("position", i),
        )
        for i, ref in enumerate(version.references_snapshot or [])
    )
    article.refresh_history_snapshot()
    return article
