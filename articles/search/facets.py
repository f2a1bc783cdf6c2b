"""Tags of the results: each hit's tags, the facets to narrow by, popular tags.

Raw SQL here: the ORM spends longer preparing a thousand-id IN list than the query
takes, and taggit's prefetch_related("tags") costs more per article than a whole search.
"""

# S608: the SQL names only Django's own table names; values travel as parameters.
# ruff: noqa: S608

from collections import Counter

from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from taggit.models import Tag

from ..models import Article, TaggedArticle
from .backends import backend
from .base import in_list
from .results import Facet

FACETS_SHOWN = 12
POPULAR_TAGS_CACHE_SECONDS = 300


def name_order(tag):
    """Tags by name, case aside, the same on every database."""
    return (tag.name.casefold(), tag.name)


def facet_order(facet):
    return (-facet.count, *name_order(facet))


def tag_facets(article_ids, *, exclude=None, limit=FACETS_SHOWN, engine=None):
    """Tags of these articles with how many of them carry each, most used first."""
    if not article_ids:
        return []
    engine = engine or backend()
    tagged = connection.ops.quote_name(TaggedArticle._meta.db_table)
    tags = connection.ops.quote_name(Tag._meta.db_table)
    in_ids, params = engine.any_id("ta.content_object_id", article_ids)
    with connection.cursor() as cursor:
        # Counted by tag id first, then joined to the few tags (not to every tagging).
        cursor.execute(
            f"SELECT t.name, t.slug, c.n FROM (SELECT ta.tag_id, count(*) AS n FROM {tagged} AS ta "
            f"WHERE {in_ids} AND ta.tag_id <> %(exclude)s GROUP BY ta.tag_id) AS c "
            f"JOIN {tags} AS t ON t.id = c.tag_id ORDER BY c.n DESC, t.name LIMIT %(limit)s",
            {**params, "exclude": exclude.pk if exclude is not None else -1, "limit": limit},
        )
        return sorted((Facet(name, slug, count) for name, slug, count in cursor.fetchall()), key=facet_order)


def tags_and_facets(engine, page_ids, ranked, candidate_tags, *, exclude):
    """({shown article id: [Tag, ...]}, facets over every ranked article).

    From the tag ids the index returned with the candidates (PostgreSQL) and one look
    at the tags for their names; otherwise (SQLite) from the tags tables.
    """
    if candidate_tags is None:
        return tags_of(page_ids), tag_facets(ranked, exclude=exclude, engine=engine)
    counts = Counter(tag_id for article_id in ranked for tag_id in candidate_tags.get(article_id) or ())
    counts.pop(exclude.pk if exclude is not None else None, None)
    shown = {article_id: candidate_tags.get(article_id) or () for article_id in page_ids}
    shown_ids = set().union(*shown.values())
    wanted = sorted(shown_ids.union(counts))
    tags = {}
    if wanted:
        in_ids, params = engine.any_id("id", wanted)
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(Tag._meta.db_table)
            cursor.execute(f"SELECT id, name, slug FROM {table} WHERE {in_ids}", params)
            tags = {tag_id: (name, slug) for tag_id, name, slug in cursor.fetchall()}

    facets = sorted(
        (Facet(*tags[tag_id], n) for tag_id, n in counts.items() if tag_id in tags),
        key=facet_order,
    )[:FACETS_SHOWN]
    # Tag objects only for the shown articles' tags, not for every facet's.
    objects = {tag_id: Tag(id=tag_id, name=tags[tag_id][0], slug=tags[tag_id][1]) for tag_id in shown_ids & set(tags)}
    page_tags = {
        article_id: sorted((objects[tag_id] for tag_id in ids if tag_id in objects), key=name_order)
        for article_id, ids in shown.items()
        if ids
    }
    return page_tags, facets


def tags_of(article_ids):
    """{article id: [Tag, ...]} in one query."""
    if not article_ids:
        return {}
    tagged = connection.ops.quote_name(TaggedArticle._meta.db_table)
    table = connection.ops.quote_name(Tag._meta.db_table)
    placeholders, params = in_list("id", list(article_ids))
    tags = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ta.content_object_id, t.id, t.name, t.slug FROM {tagged} AS ta JOIN {table} AS t "
            f"ON t.id = ta.tag_id WHERE ta.content_object_id IN ({placeholders})",
            params,
        )
        for article_id, tag_id, name, slug in cursor.fetchall():
            tags.setdefault(article_id, []).append(Tag(id=tag_id, name=name, slug=slug))
    return {article_id: sorted(article_tags, key=name_order) for article_id, article_tags in tags.items()}


def popular_tags(limit=10):
    """The most used tags on published articles (offered when nothing is found)."""
    # "v2": the cached Facets are pickled under articles.search.results since the package
    # split; a server still running the old module must not read them.
    key = f"search:popular-tags:v2:{limit}"
    tags = cache.get(key)
    if tags is None:
        rows = (
            TaggedArticle.objects.filter(content_object__in=Article.objects.published())
            .values("tag__name", "tag__slug")
            .annotate(count=Count("id"))
            .order_by("-count", "tag__name")[:limit]
        )
        tags = [Facet(row["tag__name"], row["tag__slug"], row["count"]) for row in rows]
        cache.set(key, tags, POPULAR_TAGS_CACHE_SECONDS)
    return tags
