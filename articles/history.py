"""Versions of an article: compare two, restore one (its tags and references included)."""

import difflib

from django.db import transaction

from .models import Article, Author, Reference

# The fields a version restores; created_at/updated_at and body_html follow from saving.
VERSIONED_FIELDS = [
    "title",
    "slug",
    "summary",
    "body",
    "status",
    "published_at",
    "author_id",
    "reviewed_by",
    "reviewed_at",
]
SNAPSHOT_FIELDS = ["tag_names", "references_snapshot"]


def _value(version, field):
    """A field of a historical record, or of the live article when `version` is an Article."""
    if isinstance(version, Article) and field in SNAPSHOT_FIELDS:
        return version.snapshot()[field]
    return getattr(version, field)


def _display(field, value, authors):
    if value in (None, "", []):
        return ""
    if field == "author_id":
        return str(authors.get(value, f"(deleted author #{value})"))
    if field == "tag_names":
        return ", ".join(value)
    if field == "references_snapshot":
        return "\n".join(f"{ref['title']} <{ref['url']}>" for ref in value)
    return str(value)


def compare(older, newer):
    """Rows (label, old text, new text, changed, diff lines) for two versions of one article."""
    fields = VERSIONED_FIELDS + SNAPSHOT_FIELDS
    author_ids = {_value(v, "author_id") for v in (older, newer)} - {None}
    authors = Author.objects.in_bulk(author_ids)
    rows = []
    for field in fields:
        old = _display(field, _value(older, field), authors)
        new = _display(field, _value(newer, field), authors)
        diff = []
        if old != new and ("\n" in old or "\n" in new):
            diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), "older", "newer", lineterm="", n=1))
        label = {"author_id": "author", "tag_names": "tags", "references_snapshot": "references"}.get(field, field)
        rows.append({"field": label.replace("_", " "), "old": old, "new": new, "changed": old != new, "diff": diff})
    return rows


@transaction.atomic
def restore_version(article, version, *, user=None):
    """Make `article` what it was at `version`: fields, tags and references. Saves a new version.

    Raises ValidationError when the old slug now belongs to another article.
    """
    for field in VERSIONED_FIELDS:
        setattr(article, field, getattr(version, field))
    if article.author_id is not None and not Author.objects.filter(pk=article.author_id).exists():
        article.author_id = None
    article.validate_unique()
    article._history_user = user
    article._change_reason = f"Restored the version of {version.history_date:%Y-%m-%d %H:%M} UTC"[:100]
    article.save()
    article.tags.set(version.tag_names or [])
    article.references.all().delete()
    Reference.objects.bulk_create(
        Reference(article=article, position=ref.get("position", i), title=ref["title"], url=ref["url"])
        for i, ref in enumerate(version.references_snapshot or [])
    )
    article.refresh_history_snapshot()
    return article
