"""Search, PostgreSQL: each document's head (title, summary and tags, a few hundred bytes) and
tag ids stay in the table row instead of TOAST.

0002 set `toast_tuple_target = 128` so that the body and the whole-document vector, kilobytes
each, live in TOAST and finding matches reads few pages. The toaster then moved the head out
as well, so ranking the head candidates of a search read each one's head back from TOAST: a
third of the ranking statement's time at 100,000 articles (docs/performance.md, 7 December
2026). `STORAGE MAIN` keeps a column in the row unless the row could not fit a page otherwise.

Rows written before keep their out-of-line heads until rewritten: the backfill rewrites them
(concatenating an empty vector makes a new value, stored under the new rule).
"""

from django.db import migrations

POSTGRES_STORAGE = (
    "ALTER TABLE articles_search_document ALTER COLUMN head SET STORAGE MAIN, ALTER COLUMN tag_ids SET STORAGE MAIN"
)
POSTGRES_BACKFILL = "UPDATE articles_search_document SET head = head || ''::tsvector, tag_ids = tag_ids || '{}'"
POSTGRES_BACKWARD = (
    "ALTER TABLE articles_search_document ALTER COLUMN head SET STORAGE EXTENDED, "
    "ALTER COLUMN tag_ids SET STORAGE EXTENDED"
)


def set_storage(schema_editor):
    """The columns' storage; safe to run again (rebuild_search_index runs it after creating
    any missing index table)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_STORAGE)


def forward(apps, schema_editor):
    set_storage(schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKFILL)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0011_reviewer_photo"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
