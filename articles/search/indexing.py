"""Keeping the index in step with the articles.

The index holds every article whatever its status; what is public is decided when the
query runs, because a scheduled article becomes public without being saved again.
Saves, deletes and tag changes reindex on commit (signals.py); `QuerySet.update()`,
`bulk_create()` and `bulk_update()` send no signals: call index_articles() after them.
"""

import html
import re
import threading

from django.db import connection, transaction

from site_config.page_cache import bump_content_version

from ..models import Article
from .backends import backend
from .base import TERM_TABLE
from .query import CONTROL, WORD, fold

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _plain_text(html_text):
    # body_html is sanitised markup (nh3), so a simple tag pattern suffices and is far
    # faster than strip_tags() when rebuilding the whole index. A tag becomes a space so
    # words in adjacent elements stay apart. The text is escaped again when shown.
    return html.unescape(_TAG.sub(" ", html_text))


def _document(article):
    def clean(text):
        return _SPACE.sub(" ", CONTROL.sub(" ", text or "")).strip()

    return {
        "id": article.pk,
        "status": article.status,
        "published_at": article.published_at,
        "title": clean(article.title),
        "summary": clean(article.summary),
        "body": clean(_plain_text(article.body_html) if article.body_html else article.body),
        "tags": clean(", ".join(tag.name for tag in article.tags.all())),
        "tag_ids": sorted(tag.pk for tag in article.tags.all()),
    }


def _vocabulary_words(doc):
    """The words of a document the vocabulary keeps (for prefixes and suggestions)."""
    text = fold(" ".join((doc["title"], doc["summary"], doc["body"], doc["tags"])))
    return {word for word in WORD.findall(text) if 3 <= len(word) <= 40 and word.isalpha()}


def index_articles(ids):
    """Bring the index in step with these articles: (re)index them, drop deleted ones."""
    ids = {int(pk) for pk in ids}
    if not ids:
        return
    engine = backend()
    articles = Article.objects.filter(pk__in=ids).prefetch_related("tags")
    docs = [_document(article) for article in articles]
    terms = set().union(*(_vocabulary_words(doc) for doc in docs)) if docs else set()
    with transaction.atomic(), connection.cursor() as cursor:
        engine.delete(cursor, ids)
        if docs:
            engine.insert(cursor, docs)
        if terms:
            # Counts are refreshed by rebuild_index(); a new word starts at 1.
            engine.insert_terms(cursor, [(term, 1) for term in sorted(terms)], skip_known=True)


def rebuild_index(*, batch_size=500, progress=None):
    """Rebuild the whole index from the articles table; returns the number indexed."""
    engine = backend()
    vocabulary = {}
    indexed = 0
    last_pk = 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            engine.clear(cursor)
            engine.before_rebuild(cursor)
            cursor.execute(f"DELETE FROM {TERM_TABLE}")  # noqa: S608 (a constant)
        while True:
            batch = list(
                Article.objects.filter(pk__gt=last_pk)
                .order_by("pk")
                .only("pk", "status", "published_at", "title", "summary", "body", "body_html")
                .prefetch_related("tags")[:batch_size]
            )
            if not batch:
                break
            last_pk = batch[-1].pk
            docs = [_document(article) for article in batch]
            with connection.cursor() as cursor:
                engine.insert(cursor, docs)
            for doc in docs:
                for term in _vocabulary_words(doc):
                    vocabulary[term] = vocabulary.get(term, 0) + 1
            indexed += len(docs)
            if progress:
                progress(indexed)
        with connection.cursor() as cursor:
            engine.after_rebuild(cursor)
            engine.insert_terms(cursor, sorted(vocabulary.items()))
    with connection.cursor() as cursor:
        engine.optimize(cursor)
    return indexed


def clear_index_if_articles_gone():
    """After a flush (tests) the articles are gone but the index is not Django's to flush."""
    if TERM_TABLE not in connection.introspection.table_names() or Article.objects.exists():
        return
    engine = backend()
    with connection.cursor() as cursor:
        if not engine.is_empty(cursor):
            engine.clear(cursor)
            cursor.execute(f"DELETE FROM {TERM_TABLE}")  # noqa: S608 (a constant)


_pending = threading.local()


def reindex_on_commit(ids):
    """Queue articles for reindexing once the current transaction commits."""
    if not hasattr(_pending, "ids"):
        _pending.ids = set()
    _pending.ids.update(ids)
    transaction.on_commit(_flush_pending, robust=True)


def _flush_pending():
    ids, _pending.ids = getattr(_pending, "ids", set()), set()
    index_articles(ids)
    # Cached search pages were rendered from the old index: the content-version bump that
    # fired on commit ran before this reindex, so bump again now that the index is current.
    bump_content_version()
