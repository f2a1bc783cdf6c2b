"""The search index follows every change on commit, and can be rebuilt."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from taggit.models import Tag

from articles import search
from articles.models import Article
from articles.search.base import TERM_TABLE
from articles.search.postgres import DOCUMENT_TABLE
from articles.search.sqlite import FTS_TABLE, HEAD_TABLE
from tests.articles.factories import make_article

pytestmark = pytest.mark.django_db


def found(query):
    return [hit.article.pk for hit in search.search_articles(query).hits]


def staff_found(query):
    return search.article_ids_matching(query)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """A context manager running the on-commit callbacks (the index update) at its end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_create_edit_and_delete(committed):
    """A new article is found, an edit replaces the old words, a deleted one is gone."""
    with committed():
        article = make_article(title="Chromium picolinate", body="Blood sugar.")
    assert found("chromium") == [article.pk]
    with committed():
        article.title = "Berberine basics"
        article.save()
    assert found("chromium") == []
    assert found("berberine") == [article.pk]
    with committed():
        article.delete()
    assert found("berberine") == []
    assert staff_found("berberine") == []


def test_publish_and_unpublish(committed):
    """A draft is not found until published; unpublishing hides it again."""
    with committed():
        article = make_article(title="Creatine for older adults", published=False)
    assert found("creatine") == []
    assert staff_found("creatine") == [article.pk]
    with committed():
        article.status = Article.Status.PUBLISHED
        article.published_at = timezone.now() - timedelta(minutes=1)
        article.save()
    assert found("creatine") == [article.pk]
    with committed():
        article.status = Article.Status.DRAFT
        article.save()
    assert found("creatine") == []


def test_tags_added_removed_renamed_deleted(committed):
    """Tag names are searchable and follow add, remove, rename and delete."""
    with committed():
        article = make_article(title="An article", body="Nothing special.")
    assert found("ashwagandha") == []
    with committed():
        article.tags.add("Ashwagandha")
    assert found("ashwagandha") == [article.pk]
    with committed():
        tag = Tag.objects.get(name="Ashwagandha")
        tag.name = "Rhodiola"
        tag.save()
    assert found("ashwagandha") == []
    assert found("rhodiola") == [article.pk]
    with committed():
        article.tags.remove(tag)
    assert found("rhodiola") == []
    with committed():
        article.tags.add("Taurine")
    with committed():
        Tag.objects.filter(name="Taurine").delete()
    assert found("taurine") == []


def test_tag_cleared_from_the_tag_side(committed):
    """Removing a tag from all its articles at once reindexes those articles."""
    with committed():
        first = make_article(title="First", tags=["glycine"])
        second = make_article(title="Second", tags=["glycine"])
    assert sorted(found("glycine")) == sorted([first.pk, second.pk])
    tag = Tag.objects.get(name="glycine")
    with committed():
        tag.articles_taggedarticle_items.all().delete()
    assert found("glycine") == []


def test_rolled_back_changes_are_not_indexed(committed):
    """Nothing is indexed before commit; a rolled-back save leaves the index alone."""
    from django.db import transaction

    with committed():
        article = make_article(title="Quercetin")
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        article.title = "Something else"
        article.save()
        raise RuntimeError("roll back")
    assert found("quercetin") == [article.pk]


def test_bulk_paths_need_a_reindex(committed):
    """QuerySet.update() sends no signal: index_articles() or the rebuild command fixes it."""
    with committed():
        article = make_article(title="Inositol")
    Article.objects.filter(pk=article.pk).update(title="Taurine")
    assert found("taurine") == []
    search.index_articles([article.pk])
    assert found("taurine") == [article.pk]
    Article.objects.filter(pk=article.pk).update(title="Glutamine")
    call_command("rebuild_search_index")
    assert found("glutamine") == [article.pk]
    assert found("taurine") == []


def test_rebuild_command_indexes_everything_and_vocabulary(capsys):
    """rebuild_search_index indexes bulk-created articles and refreshes the word counts."""
    Article.objects.bulk_create(
        [
            Article(
                title=f"Probiotic {n}",
                slug=f"probiotic-{n}",
                summary="Gut.",
                body="Strains.",
                status="published",
                published_at=timezone.now() - timedelta(days=1),
            )
            for n in range(5)
        ]
    )
    assert found("probiotic") == []
    call_command("rebuild_search_index")
    assert "Indexed 5 articles" in capsys.readouterr().out
    assert search.search_articles("probiotic").total == 5
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT docs FROM {TERM_TABLE} WHERE term = %s", ["probiotic"])
        assert cursor.fetchone()[0] == 5


@pytest.mark.django_db(transaction=True)
def test_index_follows_real_commits_after_all_migrations():
    """With real transactions (no test wrapper) and every migration applied, saves index on commit."""
    article = make_article(title="Electrolytes", tags=["hydration"])
    assert found("electrolytes") == [article.pk]
    assert found("hydration") == [article.pk]
    article.title = "Sodium"
    article.save()
    assert found("sodium") == [article.pk]
    article.delete()
    assert found("sodium") == []


@pytest.mark.django_db(transaction=True)
def test_flush_leaves_no_stale_index_rows():
    """`flush` (what pytest-django runs between transactional tests) empties the index too,
    so an article that later takes a flushed article's id inherits none of its words."""
    article = make_article(title="Electrolytes", tags=["hydration"])
    assert found("electrolytes") == [article.pk]
    # The call TransactionTestCase makes after each test.
    call_command("flush", verbosity=0, interactive=False)
    assert not Article.objects.exists()
    # The same id again, through bulk_create, which sends no signal: only an emptied index
    # keeps the old words off this row.
    [fresh] = Article.objects.bulk_create(
        [
            Article(
                pk=article.pk,
                title="Fresh",
                slug="fresh",
                summary="New.",
                body="Body.",
                status=Article.Status.PUBLISHED,
                published_at=timezone.now() - timedelta(days=1),
            )
        ]
    )
    assert fresh.pk == article.pk
    assert found("electrolytes") == []
    assert found("hydration") == []
    assert staff_found("electrolytes") == []
    assert search.search_articles("electrolytes").suggestion == ""


INDEX_TABLES = {
    "sqlite": [FTS_TABLE, HEAD_TABLE, TERM_TABLE],
    "postgresql": [DOCUMENT_TABLE, TERM_TABLE],
}


def _drop_index_tables():
    with connection.cursor() as cursor:
        for table in INDEX_TABLES[connection.vendor]:
            cursor.execute(f"DROP TABLE {table}")


def _search_works_in_full(article_pk):
    results = search.search_articles("chlorella")
    assert [hit.article.pk for hit in results.hits] == [article_pk]
    assert "<mark>" in results.hits[0].snippet
    assert [facet.slug for facet in results.facets] == ["algae"]


def test_rebuild_creates_missing_index_tables_with_every_column(committed):
    """rebuild_search_index recreates the index tables as the migrations left them."""
    with committed():
        article = make_article(title="Chlorella", body="Chlorella is an alga.", tags=["algae"])
    _drop_index_tables()
    call_command("rebuild_search_index")
    _search_works_in_full(article.pk)


def test_faster_lookups_migration_runs_where_the_index_tables_are_missing(committed):
    """A database that applied 0002 while it was an empty placeholder has no index tables:
    0003 creates them instead of failing the deploy."""
    import importlib

    from articles.management.commands.rebuild_search_index import _Executor

    with committed():
        article = make_article(title="Chlorella", body="Chlorella is an alga.", tags=["algae"])
    _drop_index_tables()
    migration = importlib.import_module("articles.migrations.0003_search_faster_lookups")
    with connection.cursor() as cursor:
        migration.forward(None, _Executor(cursor))
        migration.forward(None, _Executor(cursor))  # and again: nothing breaks
    search.index_articles([article.pk])
    _search_works_in_full(article.pk)


def _values_in_toast():
    """How many values of the index's live rows PostgreSQL stored out of the rows (in TOAST)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltoastrelid::regclass::text FROM pg_class WHERE relname = %s", [DOCUMENT_TABLE])
        [(toast_table,)] = cursor.fetchall()
        cursor.execute(f"SELECT count(DISTINCT chunk_id) FROM {toast_table}")  # noqa: S608 (from the catalogue)
        return cursor.fetchone()[0]


def test_heads_stay_in_the_row_when_bodies_go_to_toast(committed):
    """PostgreSQL: ranking the head candidates reads the head from the row, not from TOAST (a
    third of the ranking statement's time when it did): the body and the whole document, kilobytes
    each, go out of the row; the head and the tag ids stay, after the migration and a rebuild alike."""
    if connection.vendor != "postgresql":
        pytest.skip("TOAST is PostgreSQL's")
    import importlib

    from articles.management.commands.rebuild_search_index import _Executor

    filler = " ".join(f"word{n} pond{n % 7}" for n in range(600))  # kilobytes, hardly compressible
    with committed():
        article = make_article(
            title="Chlorella, spirulina and other algae sold as supplements",
            summary="What the studies of algae supplements found, what they contain, and who should avoid them. " * 3,
            body=f"Chlorella is an alga. {filler}",
            tags=["algae"],
        )
    assert _values_in_toast() == 2  # the body text and the document
    migration = importlib.import_module("articles.migrations.0012_search_head_in_row")
    with connection.cursor() as cursor:
        migration.backward(None, _Executor(cursor))
    search.index_articles([article.pk])
    assert _values_in_toast() == 4  # before: the head and the tag ids went out too
    with connection.cursor() as cursor:  # the migration's steps but its VACUUM (no transaction there)
        for _ in range(2):  # and again: nothing breaks
            migration.set_storage(_Executor(cursor))
            migration.rewrite_rows(_Executor(cursor))  # the rows written before
    assert _values_in_toast() == 2
    _drop_index_tables()
    call_command("rebuild_search_index")
    assert _values_in_toast() == 2
    _search_works_in_full(article.pk)
