"""PostgreSQL search: the vocabulary gains each word's stem (english configuration).

Search result snippets look up which surface words stem to the query's lexemes and mark
them in the body, instead of ts_headline() parsing every body shown. SQLite's snippets
come from FTS5 and need no stems.
"""

from django.db import migrations


def add_stems(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE articles_search_term ADD COLUMN IF NOT EXISTS stem varchar(64) NULL")
    schema_editor.execute(
        "UPDATE articles_search_term SET stem = (tsvector_to_array(to_tsvector('english'::regconfig, term)))[1]"
    )
    # text_pattern_ops: equality and the prefix LIKE of a prefix query.
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS articles_search_term_stem ON articles_search_term (stem text_pattern_ops)"
    )


def drop_stems(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE articles_search_term DROP COLUMN IF EXISTS stem")


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0003_search_recent_buckets"),
    ]

    operations = [migrations.RunPython(add_stems, drop_stems, elidable=False)]
