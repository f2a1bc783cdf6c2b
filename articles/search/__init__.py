"""Full-text search of articles: one entry point, two backends.

`search_articles(query, tag=..., page=...)` is what views, the admin and tests call. It
cleans the reader's text into plain words (query.py: no search syntax survives), keeps
to what `Article.objects.published()` allows (the index queries apply its rule, and the
articles of the shown page are checked again with `is_published`), and goes through the
backend for the database (backends.py, by `connection.vendor`):

- sqlite.py: FTS5 tables, `bm25()` with column weights, `snippet()`.
- postgres.py: a stored weighted tsvector with GIN indexes, `ts_rank`, snippets cut in
  Python (snippets.py).

Both rank at most two candidate sets (see base.SearchBackend): a search stays fast
however common its words. Ranking: articles matching a word in the title come first,
then those matching the whole query in summary or tags, then body-only matches; within
each tier by bm25 / ts_rank. facets.py gives the tags to narrow by, suggestions.py the
"did you mean", indexing.py keeps the index in step (signals.py on every change).
How it works and what it costs, measured: docs/search.md.
"""

import re

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import prefetch_related_objects
from django.utils import timezone
from taggit.models import Tag

from ..models import Article
from .backends import backend
from .base import Filters
from .facets import popular_tags, tag_facets, tags_and_facets
from .indexing import clear_index_if_articles_gone, index_articles, rebuild_index, reindex_on_commit
from .query import MAX_QUERY_CHARS, clean_query, terms_for
from .results import Facet, Hit, SearchResults
from .snippets import snippet_html
from .suggestions import FEW_RESULTS, suggest

__all__ = [
    "MAX_QUERY_CHARS",
    "Facet",
    "Hit",
    "SearchResults",
    "article_ids_matching",
    "clean_query",
    "clear_index_if_articles_gone",
    "index_articles",
    "popular_tags",
    "rebuild_index",
    "reindex_on_commit",
    "search_articles",
    "suggest",
    "tag_facets",
    "terms_for",
]

PER_PAGE = 10
# What a result needs of its article (not the body: the snippet stands in for it).
HIT_FIELDS = ("id", "title", "slug", "summary", "status", "published_at", "updated_at", "hero_image")
_SLUG = re.compile(r"[-\w]{1,100}")


def search_articles(query, *, tag=None, page=1, per_page=PER_PAGE, include_unpublished=False):
    """Ranked published articles matching `query`, one page of them with snippets.

    `tag` (a slug) narrows to articles with that tag. An impossible `page` raises
    django.core.paginator.InvalidPage (views answer 404). An empty query searches
    nothing. `include_unpublished` is for staff tools (the admin) only.
    """
    words = clean_query(query)
    results = SearchResults(query=" ".join(words), words=words)
    tag_id = None
    if tag:
        # A slug that cannot exist (NUL bytes, punctuation) narrows to nothing.
        valid = isinstance(tag, str) and _SLUG.fullmatch(tag)
        results.tag = Tag.objects.filter(slug=tag).first() if valid else None
        tag_id = results.tag.pk if results.tag else -1
    if not words:
        results.page_obj = Paginator([], per_page).page(1)
        return results
    results.ran = True
    words = terms_for(words)
    engine = backend()
    public = not include_unpublished
    # The order matters as far as this page; pages are numbers here (the form's field).
    exact_to = page * per_page if isinstance(page, int) else None
    ranked, ranking = _rank(engine, words, tag_id=tag_id, public=public, exact_to=exact_to)
    # Every match was ranked unless there were more than the candidate sets hold.
    results.complete = ranking.count <= engine.candidates and not ranking.capped
    results.total = len(ranked) if results.complete else max(ranking.count, len(ranked))
    results.total_capped = ranking.capped

    page_obj = Paginator(ranked, per_page).page(page)
    page_ids = list(page_obj.object_list)
    # The index query applied the public filter; the page is checked once more with
    # is_published (published() for one object).
    articles = _hit_articles(engine, page_ids)
    if public:
        articles = {pk: article for pk, article in articles.items() if article.is_published}
    snippets = engine.snippets(words, page_ids)
    tags, results.facets = tags_and_facets(engine, page_ids, ranked, ranking.tag_ids, exclude=results.tag)
    page_obj.object_list = [
        Hit(articles[pk], snippet_html(snippets.get(pk), articles[pk].summary), tags.get(pk, []))
        for pk in page_ids
        if pk in articles
    ]
    results.page_obj = page_obj

    if results.total <= FEW_RESULTS:
        results.suggestion, results.suggestion_total = suggest(words, results.total, engine=engine, public=public)
    if not results.total:
        results.popular_tags = popular_tags()
    return results


def _hit_articles(engine, ids):
    """{id: Article} of the shown page, with HIT_FIELDS only and the hero images.

    Through Article.objects.raw(), which converts values as a queryset does: building and
    reading `filter(pk__in=ids).select_related("hero_image").only(...)` cost the ORM about
    0.6 ms a page, more than the database spent on it (docs/performance.md). By primary key
    only: with published()'s conditions in the same query SQLite, lacking ANALYZE statistics,
    scans the (status, published_at) index over every public article instead.
    """
    if not ids:
        return {}
    columns = ", ".join(connection.ops.quote_name(Article._meta.get_field(name).column) for name in HIT_FIELDS)
    in_ids, params = engine.any_id("id", ids)
    table = connection.ops.quote_name(Article._meta.db_table)
    sql = f"SELECT {columns} FROM {table} WHERE {in_ids}"  # noqa: S608 (model metadata; values are parameters)
    articles = {article.pk: article for article in Article.objects.raw(sql, params)}
    with_heroes = [article for article in articles.values() if article.hero_image_id is not None]
    if with_heroes:  # prefetching for none still builds a queryset: 0.3 ms a page
        prefetch_related_objects(with_heroes, "hero_image")
    return articles


def article_ids_matching(query, *, include_unpublished=True):
    """Ranked ids of the articles matching `query`, drafts included: the admin's search.

    At most twice the backend's `candidates` ids (the best-ranked); an empty query gives [].
    """
    words = clean_query(query)
    if not words:
        return []
    ranked, _ranking = _rank(backend(), terms_for(words), tag_id=None, public=not include_unpublished)
    return ranked


def _rank(engine, words, *, tag_id, public, exact_to=None):
    """(the candidates' ids, best first up to `exact_to` at least, the backend's Ranking)."""
    ranking = engine.ranked(words, Filters(now=timezone.now(), public=public, tag_id=tag_id), exact_to=exact_to)
    scores = ranking.scores
    return sorted(scores, key=lambda article_id: (*scores[article_id], -article_id)), ranking
