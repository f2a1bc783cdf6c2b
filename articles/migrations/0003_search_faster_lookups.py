"""Search: what the indexes need to answer a search in fewer, cheaper steps.

PostgreSQL:
- Each document gains the lexeme of its id bucket ("~97" for ids 99,328-100,351):
  articles.search finds the newest matches of a common word by ANDing it with the newest
  buckets inside the GIN index. (Concatenating a lexeme a vector already holds changes
  nothing, so rerunning this is safe.)
- Each row gains a copy of its article's tag ids: facets and the tags shown with each
  result come back with the ranked candidates.
- The vocabulary gains each word's stem (english configuration): result snippets mark the
  surface words that stem to the query's lexemes instead of ts_headline() parsing every
  body shown.

SQLite: an unpublished article's tags column gains a mark no query can type, so public
searches exclude drafts inside FTS5 instead of through a list of ids.

Rows written later get all of this from articles.search.
"""

import importlib

from django.db import migrations

RECENT_BUCKET_BITS = 10  # articles.search.RECENT_BUCKET_BITS when this was written

POSTGRES_COLUMNS = [
    "ALTER TABLE articles_search_document ADD COLUMN IF NOT EXISTS tag_ids integer[] NOT NULL DEFAULT '{}'",
    "ALTER TABLE articles_search_term ADD COLUMN IF NOT EXISTS stem varchar(64) NULL",
    # text_pattern_ops: equality and the prefix LIKE of a prefix query.
    "CREATE INDEX IF NOT EXISTS articles_search_term_stem ON articles_search_term (stem text_pattern_ops)",
]
POSTGRES_BACKFILL = [
    (
        "UPDATE articles_search_document SET document = document "
        "|| array_to_tsvector(ARRAY['~' || (article_id >> %s)::text])",
        [RECENT_BUCKET_BITS],
    ),
    (
        "UPDATE articles_search_document SET tag_ids = ARRAY(SELECT tag_id FROM articles_taggedarticle "
        "WHERE content_object_id = article_id ORDER BY tag_id)",
        None,
    ),
    ("UPDATE articles_search_term SET stem = (tsvector_to_array(to_tsvector('english'::regconfig, term)))[1]", None),
]
BACKWARD = [
    "ALTER TABLE articles_search_term DROP COLUMN IF EXISTS stem",
    "ALTER TABLE articles_search_document DROP COLUMN IF EXISTS tag_ids",
]

SQLITE_UNPUBLISHED_MARK = "\ue000unpublished"  # articles.search.SQLITE_UNPUBLISHED_MARK when this was written


def add_columns(schema_editor):
    """The columns and index this migration adds; safe to run again (rebuild_search_index
    runs it after creating any missing index table)."""
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_COLUMNS:
            schema_editor.execute(statement)


def forward(apps, schema_editor):
    # A database that applied 0002 while it was an empty placeholder has no index tables:
    # create them first (every statement there is idempotent).
    importlib.import_module("articles.migrations.0002_search_index").create_index(apps, schema_editor)
    add_columns(schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        for statement, params in POSTGRES_BACKFILL:
            schema_editor.execute(statement, params)
    elif schema_editor.connection.vendor == "sqlite":
        for table in ("articles_search_fts", "articles_search_head"):
            schema_editor.execute(
                f"UPDATE {table} SET tags = tags || ' ' || %s "  # noqa: S608 (fixed table names)
                "WHERE rowid IN (SELECT id FROM articles_article WHERE status <> 'published')",
                [SQLITE_UNPUBLISHED_MARK],
            )


def backward(apps, schema_editor):
    # The bucket lexemes and the marks stay: no query without them looks for them.
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0002_search_index"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
