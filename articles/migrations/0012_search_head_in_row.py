"""Search, PostgreSQL: each document's head (title, summary and tags, a few hundred bytes) and
tag ids stay in the table row instead of TOAST.

0002 set `toast_tuple_target = 128` so that the body and the whole-document vector, kilobytes
each, live in TOAST and finding matches reads few pages. The toaster then moved the head out
as well, so ranking the head candidates of a search read each one's head back from TOAST: a
third of the ranking statement's time at 100,000 articles (docs/performance.md, 7 December
2026). `STORAGE MAIN` keeps a column in the row unless the row could not fit a page otherwise.

Rows written before keep their out-of-line heads until rewritten: the backfill rewrites them
(concatenating an empty vector makes a new value, stored under the new rule), then VACUUM clears
the old row versions and the GIN indexes' pending entries, which would otherwise slow every
search until autovacuum came (at 100,000 articles: a median of 19 ms instead of 9). VACUUM cannot
run in a transaction, hence `atomic = False`; the rewrite alone is one statement, all or nothing.
"""

from django.db import migrations

POSTGRES_STORAGE = (
    "ALTER TABLE articles_search_document ALTER COLUMN head SET STORAGE MAIN, ALTER COLUMN tag_ids SET STORAGE MAIN"
)
POSTGRES_REWRITE = "UPDATE articles_search_document SET head = head || ''::tsvector, tag_ids = tag_ids || '{}'"
POSTGRES_VACUUM = "VACUUM ANALYZE articles_search_document"
POSTGRES_BACKWARD = (
    "ALTER TABLE articles_search_document ALTER COLUMN head SET STORAGE EXTENDED, "
    "ALTER COLUMN tag_ids SET STORAGE EXTENDED"
)


def set_storage(schema_editor):
    """The columns' storage; safe to run again (rebuild_search_index runs it after creating
    any missing index table)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_STORAGE)


def rewrite_rows(schema_editor):
    """Rows written before the storage changed, stored again under it."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_REWRITE)


def forward(apps, schema_editor):
    set_storage(schema_editor)
    rewrite_rows(schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_VACUUM)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [
        ("articles", "0011_reviewer_photo"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
