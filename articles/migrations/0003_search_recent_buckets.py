"""PostgreSQL search: each indexed document gains the lexeme of its id bucket.

articles.search finds the newest matches of a common word by ANDing it with the newest
buckets inside the GIN index. Rows written before this migration get their lexeme here
(concatenating a lexeme a vector already holds changes nothing, so this is safe to rerun);
rows written after get it from articles.search. SQLite's FTS5 index needs nothing.
"""

from django.db import migrations

RECENT_BUCKET_BITS = 10  # articles.search.RECENT_BUCKET_BITS when this was written


def add_bucket_lexemes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "UPDATE articles_search_document SET document = document "
        "|| array_to_tsvector(ARRAY['~' || (article_id >> %s)::text])",
        [RECENT_BUCKET_BITS],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0002_search_index"),
    ]

    operations = [migrations.RunPython(add_bucket_lexemes, migrations.RunPython.noop, elidable=False)]
