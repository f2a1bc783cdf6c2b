"""The full-text search index (articles/search.py owns it).

SQLite: two FTS5 tables, the whole article and its "head" (title, summary, tags), the
head kept apart so title and summary matches stay cheap to find among thousands of body
matches. PostgreSQL: one narrow table with a weighted stored tsvector and GIN indexes.
Both: a vocabulary table for "Did you mean". The SQL differs by vendor, so it runs in
RunPython guarded by the connection's vendor (FTS5 SQL is a syntax error on PostgreSQL).
Every statement is idempotent: `rebuild_search_index` runs create_index() again, so a
database that applied the earlier empty placeholder of this migration gets its tables.
The index is kept in sync from Python on commit, not by triggers: SQLite silently drops
triggers when a later migration rebuilds the articles table.
"""

from django.db import migrations

TOKENIZE = "porter unicode61 remove_diacritics 2"

SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS articles_search_fts USING fts5(title, summary, body, tags, tokenize = '{TOKENIZE}')",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS articles_search_head USING fts5(title, summary, tags, tokenize = '{TOKENIZE}')",
]
SQLITE_DROP = ["DROP TABLE IF EXISTS articles_search_fts", "DROP TABLE IF EXISTS articles_search_head"]

POSTGRES_CREATE = [
    # No foreign key to articles_article: Django's test flush truncates that table
    # without CASCADE. Rows are removed by the delete signal and `rebuild_search_index`.
    """CREATE TABLE IF NOT EXISTS articles_search_document (
        article_id bigint PRIMARY KEY,
        status varchar(10) NOT NULL,
        published_at timestamp with time zone NULL,
        body_text text NOT NULL,
        head tsvector NOT NULL,
        document tsvector NOT NULL
    )""",
    # Keep heap rows tiny: the vectors and the body text go to TOAST, so finding and
    # counting matches reads a few pages instead of the whole text.
    "ALTER TABLE articles_search_document SET (toast_tuple_target = 128)",
    "CREATE INDEX IF NOT EXISTS articles_search_document_head ON articles_search_document USING gin (head)",
    "CREATE INDEX IF NOT EXISTS articles_search_document_document ON articles_search_document USING gin (document)",
]
POSTGRES_DROP = ["DROP TABLE IF EXISTS articles_search_document"]

COMMON_CREATE = [
    # Words as readers type them (lower case, accents folded), with the number of
    # articles using each: the source of "Did you mean".
    "CREATE TABLE IF NOT EXISTS articles_search_term (term varchar(64) NOT NULL PRIMARY KEY, docs integer NOT NULL)",
]
COMMON_DROP = ["DROP TABLE IF EXISTS articles_search_term"]


def _run(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement)


def create_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_CREATE)
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRES_CREATE)
    _run(schema_editor, COMMON_CREATE)


def drop_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_DROP)
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRES_DROP)
    _run(schema_editor, COMMON_DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
