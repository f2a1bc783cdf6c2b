"""Full-text search of articles: one entry point, two backends.

`search_articles(query, tag=..., page=...)` is what views, the admin and tests call. It
cleans the reader's text into plain words (no search syntax survives), keeps to what
`Article.objects.published()` allows (the index queries apply its rule, and the articles
of the shown page are checked again with `is_published`, the same rule for one object),
and dispatches on `connection.vendor`:

- SQLite: FTS5 tables (porter stemming, unicode61 with accents folded), `bm25()` with
  column weights, `snippet()` for the excerpt.
- PostgreSQL: a narrow table with a stored weighted tsvector (title A, summary and tags B,
  body C) and GIN indexes, `ts_rank`; snippets cut in Python around the words whose stem
  (kept in the vocabulary) is one of the query's lexemes.

Speed at 100,000 articles: ranking every match of a common word costs about 1 microsecond
a row on FTS5 and 3 on PostgreSQL (see the README), so a search never ranks every match.
It ranks at most two candidate sets, both cheap to find through the index in id order:
the newest CANDIDATES articles matching anywhere and the newest CANDIDATES matching in
title, summary or tags. When there are fewer matches than CANDIDATES (almost every real
query) that is every match and the ranking is exact; otherwise the count says how many
matched and the pages show the best-ranked of those candidates.

Ranking: articles matching a word in the title come first, then those matching the whole
query in summary or tags, then body-only matches; within each tier by bm25 / ts_rank.

The index holds every article whatever its status; what is public is decided when the
query runs, because a scheduled article becomes public without being saved again.
SQLite keeps the status in the index (a mark on unpublished articles) and reads the
publication time from articles_article; PostgreSQL reads both from its copy in the index
row (refreshed on every save; after QuerySet.update() call index_articles()).
"""

# S608: the SQL below names only this module's table constants; every value, and above
# all the reader's words, travels as a query parameter.
# ruff: noqa: S608

import html
import json
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.html import escape
from taggit.models import Tag

from site_config.page_cache import bump_content_version

from .models import Article, TaggedArticle

MAX_QUERY_CHARS = 200
MAX_WORDS = 12
PER_PAGE = 10
# How many matches each candidate set may hold (see the module docstring).
CANDIDATES = 300
# Matches are counted up to here, no further: an exact count of a common word reads
# every match (PostgreSQL: 300 ms at 100,000 articles). Beyond it the page says "more than".
COUNT_CAP = 1_000
# The last word matches as a prefix only from this length: "a*" would expand to
# thousands of terms and cost more than any ordinary query.
PREFIX_MIN_LENGTH = 3
PREFIX_EXPANSIONS = 20
# "Did you mean" is offered when a query finds at most this many articles.
FEW_RESULTS = 3
SUGGEST_GAIN = 5
FACETS_SHOWN = 12
SNIPPET_TOKENS = 32
# What a result needs of its article (not the body: the snippet stands in for it).
HIT_FIELDS = ("id", "title", "slug", "summary", "status", "published_at", "updated_at")
POPULAR_TAGS_CACHE_SECONDS = 300

# Marks a backend puts around matches in a snippet; stripped from indexed text, so they
# can only come from the backend. The snippet is HTML-escaped, then these become <mark>.
MARK_START, MARK_END = "\x02", "\x03"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WORD = re.compile(r"[^\W_]+")
_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")
_SLUG = re.compile(r"[-\w]{1,100}")

PG_CONFIG = "english"
SQLITE_FTS = "articles_search_fts"
SQLITE_HEAD = "articles_search_head"
# In the tags column of an unpublished article. U+E000 is a private-use character: FTS5's
# unicode61 tokenizer keeps it in a word, clean_query() never lets one through.
SQLITE_UNPUBLISHED_MARK = "\ue000unpublished"
PG_TABLE = "articles_search_document"
TERM_TABLE = "articles_search_term"
# Column weights: title above summary and tags, above the body.
SQLITE_WEIGHTS = (10.0, 4.0, 1.0, 4.0)  # title, summary, body, tags
PG_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"  # D, C (body), B (summary, tags), A (title)
# PostgreSQL: each document also holds a lexeme naming its id bucket ("~97" for ids
# 99,328-100,351), which clean_query() can never produce (no punctuation survives). A word
# AND the newest buckets then finds the newest matches inside the GIN index.
RECENT_BUCKET_BITS = 10
RECENT_MAX_BUCKETS = 64


def _bucket_lexeme(article_id):
    return f"~{article_id >> RECENT_BUCKET_BITS}"


# --- Input ------------------------------------------------------------------------------


def fold(text):
    """Lower case with accents removed: how words are compared and suggested."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def clean_query(query):
    """The reader's text as a list of plain words; nothing else survives.

    Operators, quotes, column filters (`title:x`), NUL bytes and any other punctuation
    become word separators, so `title:magnesium` means the words "title magnesium".
    """
    if not query:
        return []
    text = _CONTROL.sub(" ", str(query)[:MAX_QUERY_CHARS])
    return _WORD.findall(fold(unicodedata.normalize("NFKC", text)))[:MAX_WORDS]


class Terms(tuple):
    """The cleaned words, and how the last one matches (see terms_for())."""

    prefix = False  # the last word matches as a prefix
    expansions = ()  # the index's commonest words starting with it (SQLite matches these)

    def __new__(cls, words):
        terms = super().__new__(cls, words)
        # How many articles hold each word, from the vocabulary (a word it lacks is
        # missing); for a prefix, the count of its commonest expansion. Surface words
        # only, so a lower bound of what the stemmed search matches.
        terms.counts = {}
        return terms


def terms_for(words):
    """Terms for the words: the last one is a prefix unless the index knows it as a word.

    "magn" finds magnesium; "wellness", a word of the index, is matched as itself (with
    stemming) and not as a prefix too, which would pull in every form of "well". On
    SQLite the prefix becomes an OR of the commonest words starting with it: FTS5 merges a
    real prefix query's postings in full before returning anything (tens of ms for a
    common prefix at 100,000 articles) but reads an OR lazily, stopping at the LIMIT.
    """
    terms = Terms(words)
    if not words:
        return terms
    last = words[-1]
    with connection.cursor() as cursor:
        distinct = sorted(set(words))
        cursor.execute(f"SELECT term, docs FROM {TERM_TABLE} WHERE term IN ({_placeholders(distinct)})", distinct)
        terms.counts = dict(cursor.fetchall())
        if len(last) < PREFIX_MIN_LENGTH or last in terms.counts:
            return terms
        cursor.execute(
            f"SELECT term, docs FROM {TERM_TABLE} WHERE term > %s AND term < %s ORDER BY docs DESC, term LIMIT %s",
            [last, last + "\uffff", PREFIX_EXPANSIONS],
        )
        expansions = cursor.fetchall()
    terms.expansions = tuple(term for term, _docs in expansions)
    if expansions:
        terms.counts[last] = expansions[0][1]
    terms.prefix = True
    return terms


def _is_prefix(words, index):
    return index == len(words) - 1 and getattr(words, "prefix", False)


# --- Results ----------------------------------------------------------------------------


@dataclass
class Hit:
    article: Article
    snippet: str  # safe HTML: escaped text with <mark> around matched words
    tags: list = field(default_factory=list)  # the article's tags, by name


@dataclass
class Facet:
    name: str
    slug: str
    count: int


@dataclass
class SearchResults:
    query: str = ""
    words: list = field(default_factory=list)
    tag: Tag | None = None
    ran: bool = False  # False for an empty query: nothing was searched
    total: int = 0
    # False when more articles matched than were ranked (a common word at scale): the
    # pages show the best-ranked candidates and `total` counts all (PostgreSQL: capped).
    complete: bool = True
    total_capped: bool = False
    page_obj: object = None
    facets: list = field(default_factory=list)
    suggestion: str = ""
    suggestion_total: int = 0
    popular_tags: list = field(default_factory=list)

    @property
    def hits(self):
        return list(self.page_obj.object_list) if self.page_obj else []


# --- Backends ---------------------------------------------------------------------------


def _placeholders(values):
    return ", ".join(["%s"] * len(values))


def _tagged_sql():
    table = connection.ops.quote_name(TaggedArticle._meta.db_table)
    return f"SELECT content_object_id FROM {table} WHERE tag_id = %s"


def _tag_filter(id_column, tag_id):
    if tag_id is None:
        return "", []
    return f" AND {id_column} IN ({_tagged_sql()})", [tag_id]


class SQLiteBackend:
    """FTS5. Filters use `+rowid` so SQLite walks the index's matches and checks each
    against a set built once, instead of rerunning the match for every listed id."""

    @staticmethod
    def match(words, *, public=False):
        """FTS5 query text: every word a quoted phrase (quotes doubled), all required;
        for the public, NOT the mark of an unpublished article (see filters())."""

        def quoted(word):
            return '"' + word.replace('"', '""') + '"'

        phrases = []
        for i, word in enumerate(words):
            if not _is_prefix(words, i):
                phrases.append(quoted(word))
            elif words.expansions:
                phrases.append("(" + " OR ".join(quoted(w) for w in words.expansions) + ")")
            else:
                phrases.append(quoted(word) + "*")
        text = " AND ".join(phrases)
        return f'({text}) NOT "{SQLITE_UNPUBLISHED_MARK}"' if public else text

    def filters(self, *, tag_id, public, now):
        """(SQL, params, WITH clause, its params, public) for every match query: the public
        and tag filters.

        Public is published(): status "published" and a publication time in the past.
        The status is in the index: an unpublished article's tags column holds a mark no
        query can type, and match(public=True) excludes it inside FTS5 (cheap: a merge of
        two lists). The time is read from articles_article when the query runs, since a
        scheduled article turns public with no save: "NOT IN" the few with a future or no
        publication time, each branch reading only an index. Written out rather than
        built by the ORM on every search; a test checks it against published() for every
        state. (Excluding drafts through "NOT IN" as well cost 1.5-2 ms a search with 3%
        of 100,000 articles unpublished: SQLite builds the list once per use, three a search.)
        """
        sql, params = _tag_filter("+rowid", tag_id)
        with_sql, with_params = "", []
        if public:
            table = connection.ops.quote_name(Article._meta.db_table)
            # Computed once per statement (MATERIALIZED), however many parts use it.
            with_sql = (
                f"WITH search_hidden(id) AS MATERIALIZED (SELECT id FROM {table} WHERE published_at > %s "
                f"UNION ALL SELECT id FROM {table} WHERE published_at IS NULL) "
            )
            with_params = [connection.ops.adapt_datetimefield_value(now)]
            sql += " AND +rowid NOT IN (SELECT id FROM search_hidden)"
        return sql, params, with_sql, with_params, public

    def _count_sql(self, filters):
        return f"SELECT count(*) FROM (SELECT 1 FROM {SQLITE_FTS} WHERE {SQLITE_FTS} MATCH %s{filters} LIMIT %s)"

    def count(self, words, filters):
        filters, params, with_sql, with_params, public = filters
        with connection.cursor() as cursor:
            cursor.execute(
                with_sql + self._count_sql(filters),
                [*with_params, self.match(words, public=public), *params, COUNT_CAP + 1],
            )
            count = cursor.fetchone()[0]
        return min(count, COUNT_CAP), count > COUNT_CAP

    def ranked(self, words, filters):
        """(count, capped, {id: (tier, score)}, None) in one statement.

        Candidates: the newest matches anywhere and the newest in the head (title,
        summary, tags). FTS5 walks matches in rowid order and stops at the LIMIT,
        computing bm25() only for the rows returned. (A `rowid IN (...)` list next to
        MATCH would rerun the whole match for every id: never use one.) A title score
        below zero means a query word is in the title.
        """
        filters, params, with_sql, with_params, public = filters
        match = self.match(words, public=public)
        sql = (
            f"{with_sql}SELECT 0, ({self._count_sql(filters)}), 0.0, 0.0 "
            "UNION ALL SELECT * FROM ("
            f"SELECT 1, rowid, bm25({SQLITE_FTS}, %s, %s, %s, %s), 0.0 FROM {SQLITE_FTS} "
            f"WHERE {SQLITE_FTS} MATCH %s{filters} ORDER BY rowid DESC LIMIT %s) "
            "UNION ALL SELECT * FROM ("
            f"SELECT 2, rowid, bm25({SQLITE_HEAD}, %s, %s, %s), bm25({SQLITE_HEAD}, 1.0, 0.0, 0.0) "
            f"FROM {SQLITE_HEAD} WHERE {SQLITE_HEAD} MATCH %s{filters} ORDER BY rowid DESC LIMIT %s)"
        )
        weights = SQLITE_WEIGHTS
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                [
                    *with_params,
                    *(match, *params, COUNT_CAP + 1),
                    *(*weights, match, *params, CANDIDATES),
                    *(weights[0], weights[1], weights[3], match, *params, CANDIDATES),
                ],
            )
            rows = cursor.fetchall()
        count, scores = 0, {}
        for kind, value, score, title_score in rows:
            if kind == 0:
                count = value
            elif kind == 1:
                scores.setdefault(value, (2, score))
            else:
                scores[value] = (0 if title_score < 0 else 1, score)
        return min(count, COUNT_CAP), count > COUNT_CAP, scores, None

    def snippets(self, words, ids):
        if not ids:
            return {}
        one = (
            f"SELECT rowid, snippet({SQLITE_FTS}, 2, %s, %s, %s, %s) FROM {SQLITE_FTS} "
            f"WHERE {SQLITE_FTS} MATCH %s AND rowid = %s"
        )
        params = []
        for article_id in ids:
            params += [MARK_START, MARK_END, "…", SNIPPET_TOKENS, self.match(words), article_id]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join([one] * len(ids)), params)
            return dict(cursor.fetchall())

    # Writing
    def delete(self, cursor, ids):
        for table in (SQLITE_FTS, SQLITE_HEAD):
            cursor.execute(f"DELETE FROM {table} WHERE rowid IN ({_placeholders(ids)})", list(ids))

    def insert(self, cursor, docs):
        def tags(doc):
            unpublished = doc["status"] != Article.Status.PUBLISHED
            return f"{doc['tags']} {SQLITE_UNPUBLISHED_MARK}" if unpublished else doc["tags"]

        cursor.executemany(
            f"INSERT INTO {SQLITE_FTS} (rowid, title, summary, body, tags) VALUES (%s, %s, %s, %s, %s)",
            [(d["id"], d["title"], d["summary"], d["body"], tags(d)) for d in docs],
        )
        cursor.executemany(
            f"INSERT INTO {SQLITE_HEAD} (rowid, title, summary, tags) VALUES (%s, %s, %s, %s)",
            [(d["id"], d["title"], d["summary"], tags(d)) for d in docs],
        )

    def insert_terms(self, cursor, rows, *, skip_known=False):
        """Vocabulary rows (word, number of articles); `skip_known` keeps existing counts."""
        conflict = " ON CONFLICT (term) DO NOTHING" if skip_known else ""
        cursor.executemany(f"INSERT INTO {TERM_TABLE} (term, docs) VALUES (%s, %s){conflict}", rows)

    def clear(self, cursor):
        for table in (SQLITE_FTS, SQLITE_HEAD):
            cursor.execute(f"DELETE FROM {table}")

    def before_rebuild(self, cursor):
        pass

    def after_rebuild(self, cursor):
        pass

    def optimize(self, cursor):
        for table in (SQLITE_FTS, SQLITE_HEAD):
            cursor.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")

    def is_empty(self, cursor):
        cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {SQLITE_HEAD})")
        return bool(cursor.fetchone()[0])


class PostgresBackend:
    """A stored weighted tsvector with GIN indexes, and a copy of the article's status
    and publication time so the public filter reads only the row it is testing."""

    @staticmethod
    def tsquery(words, weight=""):
        """to_tsquery() text for the words (AND; OR for the title test). The words hold
        letters and digits only (clean_query), and are quoted as lexemes all the same."""
        parts = []
        for i, word in enumerate(words):
            lexeme = "'" + word.replace("'", "''").replace("\\", "") + "'"
            suffix = ("*" if _is_prefix(words, i) else "") + weight
            parts.append(f"{lexeme}:{suffix}" if suffix else lexeme)
        return (" | " if weight else " & ").join(parts)

    def filters(self, *, tag_id, public, now):
        """(SQL, params, "", []) appended to every match query: the public and tag filters.

        Public: the row's copy of the status and publication time, compared with the
        time of the query (a scheduled article turns public with no save). Every save,
        and index_articles() after a QuerySet.update(), refresh the copy; the shown page
        is checked against the article itself all the same. Reading the articles table
        here instead costs a heap visit per hidden article on every search (10-25 ms at
        100,000 articles).
        """
        sql, params = _tag_filter("article_id", tag_id)
        if public:
            sql += " AND status = %s AND published_at <= %s"
            params += [Article.Status.PUBLISHED, now]
        return sql, params, "", []

    @staticmethod
    def _fetch_bitmap_only(sql, params):
        """The rows of `sql`, planned with the GIN indexes' bitmap scans only.

        The vectors live in TOAST, so the heap looks tiny and the planner prices a
        sequential scan, or a walk down the primary key testing each row, as cheap: it
        does not see that each test decompresses a vector (100 ms at 10,000 articles,
        against 2 ms for a bitmap scan of the GIN index). Only bitmap scans remain.

        The settings and the query go in one round trip: PostgreSQL runs a string of
        statements as one transaction, so outside a transaction the SET LOCALs end with
        it; inside one (tests, an atomic view) they are reset right after.
        """
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; {sql}", params)
            cursor.nextset()
            cursor.nextset()
            rows = cursor.fetchall()
            if connection.in_atomic_block:
                cursor.execute("RESET enable_seqscan; RESET enable_indexscan")
        return rows

    def count(self, words, filters):
        filters, params, *_ = filters
        [(count,)] = self._fetch_bitmap_only(
            self._count_sql(filters), [PG_CONFIG, self.tsquery(words), *params, COUNT_CAP + 1]
        )
        return min(count, COUNT_CAP), count > COUNT_CAP

    @staticmethod
    def _count_sql(filters):
        return (
            f"SELECT count(*) FROM (SELECT 1 FROM {PG_TABLE} "
            f"WHERE document @@ to_tsquery(%s::regconfig, %s){filters} LIMIT %s) AS matches"
        )

    def ranked(self, words, filters):
        """(count, capped, {id: (tier, score)}, {id: [tag id, ...]}) in one statement, one
        round trip. The tag ids (a copy in the index row) give the facets and the shown
        articles' tags without another look at the tags table.

        Candidates: the newest matches anywhere, ranked on the whole document, and the
        newest in the head, ranked on the head (title first). The matches are found once
        (the `matches` CTE, read lazily): the count stops at COUNT_CAP + 1 rows, the
        newest CANDIDATES read them all. ts_rank runs in the outer query, after the
        LIMIT: only for the rows kept.
        """
        query, title_query = self.tsquery(words), self.tsquery(words, weight="A")
        filters, params, *_ = filters
        matching = f"SELECT article_id FROM {PG_TABLE} WHERE document @@ to_tsquery(%s::regconfig, %s){filters}"
        with_sql = f"WITH matches AS MATERIALIZED ({matching}) "
        with_params = [PG_CONFIG, query, *params]
        count_sql = "(SELECT count(*) FROM (SELECT 1 FROM matches LIMIT %s) AS capped)"
        count_params = [COUNT_CAP + 1]
        newest_sql = "ARRAY(SELECT article_id FROM matches ORDER BY article_id DESC LIMIT %s)"
        newest_params = [CANDIDATES]
        recent_buckets = self._recent_window(words)
        if recent_buckets is not None:
            # Many matches: reading them all from the table (for their ids) and sorting
            # them costs 0.2-0.3 microseconds each, 10-15 ms for a word in most articles.
            # First the matches among the newest ids: the word AND one of the newest
            # id-bucket lexemes, intersected inside the GIN index, so only those rows
            # are read. When they are more than COUNT_CAP the count is capped without
            # counting the rest; when they hold CANDIDATES those are the newest. Otherwise
            # the full queries run (a subquery in a CASE runs only when reached), so the
            # results are the same either way.
            # A query of stop words only is an empty tsquery, and empty && buckets would
            # be the buckets alone (every recent article): then the window holds nothing.
            with_sql += (
                ", recent AS MATERIALIZED (SELECT CASE WHEN numnode(to_tsquery(%s::regconfig, %s)) = 0 "
                "THEN '{}'::bigint[] ELSE ARRAY(SELECT article_id FROM "
                f"{PG_TABLE} WHERE document @@ (to_tsquery(%s::regconfig, %s) && %s::tsquery){filters} "
                "ORDER BY article_id DESC LIMIT %s) END AS ids) "
            )
            with_params += [PG_CONFIG, query, PG_CONFIG, query, recent_buckets, *params, COUNT_CAP + 1]
            count_sql = (
                f"(SELECT CASE WHEN cardinality(ids) > %s THEN cardinality(ids) ELSE {count_sql} END FROM recent)"
            )
            count_params = [COUNT_CAP, *count_params]
            newest_sql = (
                f"(SELECT CASE WHEN cardinality(ids) >= %s THEN ids[1:%s] ELSE {newest_sql} END FROM recent)::bigint[]"
            )
            newest_params = [CANDIDATES, CANDIDATES, *newest_params]
        sql = (
            f"{with_sql}SELECT 0, {count_sql}, 0::float4, false, NULL::integer[] "
            "UNION ALL "
            f"SELECT 1, article_id, ts_rank(%s::float4[], document, to_tsquery(%s::regconfig, %s)), false, tag_ids "
            f"FROM {PG_TABLE} WHERE article_id = ANY({newest_sql}) "
            "UNION ALL "
            "SELECT 2, article_id, ts_rank(%s::float4[], head, to_tsquery(%s::regconfig, %s)), "
            f"head @@ to_tsquery(%s::regconfig, %s), tag_ids FROM {PG_TABLE} WHERE article_id = "
            f"ANY(ARRAY(SELECT article_id FROM {PG_TABLE} WHERE head @@ to_tsquery(%s::regconfig, %s){filters} "
            "ORDER BY article_id DESC LIMIT %s))"
        )
        sql_params = [
            *with_params,
            *count_params,
            *(PG_WEIGHTS, PG_CONFIG, query, *newest_params),
            *(PG_WEIGHTS, PG_CONFIG, query, PG_CONFIG, title_query, PG_CONFIG, query, *params, CANDIDATES),
        ]
        rows = self._fetch_bitmap_only(sql, sql_params)
        count, scores, tag_ids = 0, {}, {}
        for kind, value, rank, in_title, tags in rows:
            if kind == 0:
                count = value
                continue
            if kind == 1:
                scores.setdefault(value, (2, -rank))
            else:
                scores[value] = (0 if in_title else 1, -rank)
            tag_ids[value] = tags
        return min(count, COUNT_CAP), count > COUNT_CAP, scores, tag_ids

    @classmethod
    def _recent_window(cls, words):
        """A tsquery of the id buckets that most likely hold the newest 1.5 x COUNT_CAP
        matches, when they span less than half the ids and at most RECENT_MAX_BUCKETS
        buckets; else None (search every match).

        Estimated from the vocabulary's counts of the words (treated as independent);
        a wrong guess costs a little time, never results (see ranked())."""
        counts = getattr(words, "counts", {})
        if not words or any(word not in counts for word in words):
            return None
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT max(article_id) FROM {PG_TABLE}")
            last_id = cursor.fetchone()[0]
        if not last_id:
            return None
        expected = last_id
        for word in set(words):
            expected = expected * counts[word] / last_id
        if expected < 1:
            return None
        span = (COUNT_CAP + 1) * 3 // 2 * last_id / expected
        if span >= last_id / 2:
            return None
        return cls.bucket_query(int(last_id - span), last_id)

    @staticmethod
    def bucket_query(since, last_id):
        """tsquery text matching every id from `since` up (to just past `last_id`,
        for articles indexed meanwhile), by the bucket lexemes; None if too many."""
        first, last = since >> RECENT_BUCKET_BITS, (last_id >> RECENT_BUCKET_BITS) + 1
        if last - first >= RECENT_MAX_BUCKETS:
            return None
        return " | ".join(f"'{_bucket_lexeme(n << RECENT_BUCKET_BITS)}'" for n in range(first, last + 1))

    def snippets(self, words, ids):
        """Snippets cut in Python around the matched words of each body.

        ts_headline() parses and stems every word of every body shown (about 3 ms for a
        page at 400 words an article); instead the vocabulary says which surface words
        stem to the query's lexemes (its `stem` column), and the body is scanned for them.
        """
        if not ids:
            return {}
        exact = [word for i, word in enumerate(words) if not _is_prefix(words, i)]
        prefix = words[-1] if getattr(words, "prefix", False) else ""
        # The vocabulary holds alphabetic words of 3 letters or more: "b12" and "uv" are
        # matched as typed, unless the configuration drops them as stop words ("a").
        unlisted = [word for word in exact if not word.isalpha() or len(word) < 3]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT article_id, body_text, ARRAY(SELECT term FROM {TERM_TABLE} "
                "WHERE stem = ANY(tsvector_to_array(to_tsvector(%s::regconfig, %s))) "
                "OR stem LIKE (tsvector_to_array(to_tsvector(%s::regconfig, %s)))[1] || '%%'), "
                "ARRAY(SELECT word FROM unnest(%s::text[]) AS word "
                "WHERE numnode(plainto_tsquery(%s::regconfig, word)) > 0) "
                f"FROM {PG_TABLE} WHERE article_id = ANY(%s)",
                [PG_CONFIG, " ".join(exact), PG_CONFIG, prefix, unlisted, PG_CONFIG, list(ids)],
            )
            rows = cursor.fetchall()
        if not rows:
            return {}
        _, _, surface_words, as_typed = rows[0]  # the same words for every row
        pattern = match_pattern(set(surface_words) | set(as_typed), prefix)
        return {article_id: marked_snippet(body, pattern) for article_id, body, *_words in rows}

    # Writing
    def delete(self, cursor, ids):
        cursor.execute(f"DELETE FROM {PG_TABLE} WHERE article_id = ANY(%s)", [list(ids)])

    def insert(self, cursor, docs):
        # Accents are folded in Python: the english configuration keeps them.
        cursor.executemany(
            f"INSERT INTO {PG_TABLE} (article_id, status, published_at, tag_ids, body_text, head, document) "
            "SELECT %s, %s, %s, %s, %s, h, h || setweight(to_tsvector(%s::regconfig, %s), 'C') "
            "|| array_to_tsvector(ARRAY[%s]) FROM ("
            "SELECT setweight(to_tsvector(%s::regconfig, %s), 'A') "
            "|| setweight(to_tsvector(%s::regconfig, %s), 'B') AS h) AS head",
            [
                (
                    d["id"],
                    d["status"],
                    d["published_at"],
                    d["tag_ids"],
                    d["body"],
                    PG_CONFIG,
                    fold(d["body"]),
                    _bucket_lexeme(d["id"]),
                    PG_CONFIG,
                    fold(d["title"]),
                    PG_CONFIG,
                    fold(d["summary"] + " " + d["tags"]),
                )
                for d in docs
            ],
        )

    def insert_terms(self, cursor, rows, *, skip_known=False):
        """Vocabulary rows, each with its stem as the english configuration makes it
        (NULL for a stop word): the snippets look up surface words by stem."""
        conflict = " ON CONFLICT (term) DO NOTHING" if skip_known else ""
        cursor.executemany(
            f"INSERT INTO {TERM_TABLE} (term, docs, stem) "
            f"SELECT %s, %s, (tsvector_to_array(to_tsvector(%s::regconfig, %s)))[1]{conflict}",
            [(term, docs, PG_CONFIG, term) for term, docs in rows],
        )

    def clear(self, cursor):
        cursor.execute(f"TRUNCATE {PG_TABLE}")  # no dead rows left for the GIN scans to skip

    def before_rebuild(self, cursor):
        # A GIN index built once over all rows is far faster to make, and to search,
        # than one grown row by row (whose pending list each search must scan).
        cursor.execute(f"DROP INDEX IF EXISTS {PG_TABLE}_head, {PG_TABLE}_document")

    def after_rebuild(self, cursor):
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(f"CREATE INDEX {PG_TABLE}_head ON {PG_TABLE} USING gin (head)")
        cursor.execute(f"CREATE INDEX {PG_TABLE}_document ON {PG_TABLE} USING gin (document)")

    def optimize(self, cursor):
        cursor.execute(f"ANALYZE {PG_TABLE}")

    def is_empty(self, cursor):
        cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {PG_TABLE})")
        return bool(cursor.fetchone()[0])


def backend():
    if connection.vendor == "postgresql":
        return PostgresBackend()
    if connection.vendor == "sqlite":
        return SQLiteBackend()
    raise NotImplementedError(f"Search supports SQLite and PostgreSQL, not {connection.vendor}")


# --- Searching --------------------------------------------------------------------------


def _ranked_ids(engine, words, *, tag_id, public):
    filters = engine.filters(tag_id=tag_id, public=public, now=timezone.now())
    total, capped, scores, tag_ids = engine.ranked(words, filters)
    ranked = sorted(scores, key=lambda article_id: (*scores[article_id], -article_id))
    complete = total <= CANDIDATES and not capped
    if complete:
        total = len(ranked)
    return ranked, max(total, len(ranked)), complete, capped, tag_ids


def match_pattern(words, prefix=""):
    """A regex for these words (folded), or any word starting with `prefix`, that ends
    where a word ends; marked_snippet() checks where it starts. (A look-behind first
    would make the scan try every position: five times slower.)"""
    choices = [re.escape(word) for word in sorted(words, key=len, reverse=True)]
    if prefix:
        choices.append(re.escape(prefix) + r"[^\W_]*")
    return re.compile(r"(?:" + "|".join(choices or ["(?!)"]) + r")(?![^\W_])")


def _fold_in_place(text):
    """fold(text) where each character stays one character, so offsets line up."""
    if text.isascii():
        return text.lower()
    return "".join(f if len(f := fold(c)) == 1 else c for c in text)


def marked_snippet(text, pattern, size=SNIPPET_TOKENS):
    """About `size` words of `text` around the words `pattern` (match_pattern()) finds
    in it, each between MARK_START and MARK_END, "…" where text was cut; None if `text`
    has no words.

    The window chosen holds the most distinct matched words, the earliest of equals, and
    starts a few words before its first match. Only the window is split into words: the
    matches are found by one regex scan (splitting every body cost 1 ms a page).
    """
    folded = _fold_in_place(text)
    hits = [hit for hit in pattern.finditer(folded) if not hit.start() or not folded[hit.start() - 1].isalnum()]
    start = 0
    if hits:
        reach = size * 7  # characters in `size` words, about
        best = max(
            hits[:50],  # window starts tried: bounded however often a word recurs
            key=lambda hit: len({other.group() for other in hits if 0 <= other.start() - hit.start() < reach}),
        )  # max() keeps the earliest of equals
        look_back = max(0, best.start() - 80)
        before = list(_WORD.finditer(folded, look_back, best.start()))
        if before and look_back and before[0].start() == look_back:
            before = before[1:]  # a word the look-back cut in two
        start = before[-3:][0].start() if before else best.start()
    words = list(islice(_WORD.finditer(text, start), size + 1))
    if len(words) < size and start:  # near the end: take earlier words to fill the window
        earlier = list(_WORD.finditer(text, max(0, start - 20 * size), start))[len(words) - size :]
        words = earlier + words
    if not words:
        return None
    start = words[0].start()
    while start and not text[start - 1].isspace():  # the rest of a token such as "</b>"
        start -= 1
    parts, position = [], start
    for word in words[:size]:
        is_hit = pattern.fullmatch(folded, word.start(), word.end())
        parts.append(text[position : word.start()])
        parts.append(f"{MARK_START}{word.group()}{MARK_END}" if is_hit else word.group())
        position = word.end()
    end = position
    while end < len(text) and not text[end].isspace():
        end += 1
    parts.append(text[position:end])
    cut_before = start > 0 and _WORD.search(folded, 0, start) is not None
    return ("…" if cut_before else "") + "".join(parts) + ("…" if len(words) > size else "")


def _snippet_html(raw, fallback):
    if not raw:
        return escape(fallback)
    return escape(raw).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


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
    ranked, results.total, results.complete, results.total_capped, candidate_tags = _ranked_ids(
        engine, words, tag_id=tag_id, public=public
    )

    page_obj = Paginator(ranked, per_page).page(page)
    page_ids = list(page_obj.object_list)
    # The index query applied the public filter; the page is checked once more with
    # is_published (published() for one object). Fetched by primary key only: with
    # published()'s conditions in the same query SQLite, lacking ANALYZE statistics,
    # scans the (status, published_at) index over every public article instead.
    articles = Article.objects.filter(pk__in=page_ids).only(*HIT_FIELDS).in_bulk()
    if public:
        articles = {pk: article for pk, article in articles.items() if article.is_published}
    snippets = engine.snippets(words, page_ids)
    tags, results.facets = _tags_and_facets(page_ids, ranked, candidate_tags, exclude=results.tag)
    page_obj.object_list = [
        Hit(articles[pk], _snippet_html(snippets.get(pk), articles[pk].summary), tags.get(pk, []))
        for pk in page_ids
        if pk in articles
    ]
    results.page_obj = page_obj

    if results.total <= FEW_RESULTS:
        results.suggestion, results.suggestion_total = suggest(words, results.total, engine=engine, public=public)
    if not results.total:
        results.popular_tags = popular_tags()
    return results


def _name_order(tag):
    """Tags by name, case aside, the same on every database."""
    return (tag.name.casefold(), tag.name)


def _facet_order(facet):
    return (-facet.count, *_name_order(facet))


def _tags_and_facets(page_ids, ranked, candidate_tags, *, exclude):
    """({shown article id: [Tag, ...]}, facets over every ranked article).

    From the tag ids the index returned with the candidates (PostgreSQL) and one look
    at the tags for their names; otherwise (SQLite) from the tags tables.
    """
    if candidate_tags is None:
        return _tags_of(page_ids), tag_facets(ranked, exclude=exclude)
    counts = Counter(tag_id for article_id in ranked for tag_id in candidate_tags.get(article_id) or ())
    counts.pop(exclude.pk if exclude is not None else None, None)
    shown = {article_id: candidate_tags.get(article_id) or () for article_id in page_ids}
    wanted = sorted(set(counts).union(*shown.values()))
    tags = {}
    if wanted:
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(Tag._meta.db_table)
            cursor.execute(f"SELECT id, name, slug FROM {table} WHERE id = ANY(%s)", [wanted])
            tags = {tag_id: Tag(id=tag_id, name=name, slug=slug) for tag_id, name, slug in cursor.fetchall()}

    facets = sorted(
        (Facet(tags[tag_id].name, tags[tag_id].slug, n) for tag_id, n in counts.items() if tag_id in tags),
        key=_facet_order,
    )[:FACETS_SHOWN]
    page_tags = {
        article_id: sorted((tags[tag_id] for tag_id in ids if tag_id in tags), key=_name_order)
        for article_id, ids in shown.items()
        if ids
    }
    return page_tags, facets


def _tags_of(article_ids):
    """{article id: [Tag, ...]} in one query. (taggit's prefetch_related("tags") costs a
    millisecond of queryset building per article, more than the whole search.)"""
    if not article_ids:
        return {}
    tagged = connection.ops.quote_name(TaggedArticle._meta.db_table)
    table = connection.ops.quote_name(Tag._meta.db_table)
    tags = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ta.content_object_id, t.id, t.name, t.slug FROM {tagged} AS ta JOIN {table} AS t "
            f"ON t.id = ta.tag_id WHERE ta.content_object_id IN ({_placeholders(article_ids)})",
            list(article_ids),
        )
        for article_id, tag_id, name, slug in cursor.fetchall():
            tags.setdefault(article_id, []).append(Tag(id=tag_id, name=name, slug=slug))
    return {article_id: sorted(article_tags, key=_name_order) for article_id, article_tags in tags.items()}


def article_ids_matching(query, *, include_unpublished=True):
    """Ranked ids of the articles matching `query`, drafts included: the admin's search.

    At most 2 * CANDIDATES ids (the best-ranked); an empty query gives [].
    """
    words = clean_query(query)
    if not words:
        return []
    ranked, *_ = _ranked_ids(backend(), terms_for(words), tag_id=None, public=not include_unpublished)
    return ranked


class SearchIndexAdminMixin:
    """For ModelAdmin: the admin's search box uses the search index, drafts included.

    Slug fragments (the default `search_fields` lookup) still match as well. The result
    keeps the admin's own ordering; ranking applies on the public search page.
    """

    def get_search_results(self, request, queryset, search_term):
        default, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        ids = article_ids_matching(search_term)
        if not ids:
            return default, may_have_duplicates
        return queryset.filter(pk__in=ids) | default, may_have_duplicates


def tag_facets(article_ids, *, exclude=None, limit=FACETS_SHOWN):
    """Tags of these articles with how many of them carry each, most used first."""
    if not article_ids:
        return []
    tagged = connection.ops.quote_name(TaggedArticle._meta.db_table)
    tags = connection.ops.quote_name(Tag._meta.db_table)
    # Raw SQL: the ORM spends longer preparing a thousand-id IN list than the query takes.
    if connection.vendor == "postgresql":
        in_ids, params = "= ANY(%s)", [list(article_ids)]
    else:
        in_ids, params = "IN (SELECT value FROM json_each(%s))", [json.dumps(list(article_ids))]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.name, t.slug, count(*) AS n FROM {tagged} AS ta JOIN {tags} AS t ON t.id = ta.tag_id "
            f"WHERE ta.content_object_id {in_ids} AND t.id <> %s GROUP BY t.id, t.name, t.slug "
            "ORDER BY n DESC, t.name LIMIT %s",
            [*params, exclude.pk if exclude is not None else -1, limit],
        )
        return sorted((Facet(name, slug, count) for name, slug, count in cursor.fetchall()), key=_facet_order)


def popular_tags(limit=10):
    """The most used tags on published articles (offered when nothing is found)."""
    key = f"search:popular-tags:{limit}"
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


# --- Did you mean -----------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _edits1(word):
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _LETTERS]
    inserts = [a + c + b for a, b in splits for c in _LETTERS]
    return set(deletes + transposes + replaces + inserts)


def _distance(a, b, limit=2):
    """Damerau-Levenshtein (optimal string alignment) distance, or limit + 1 if above."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _correction(word, *, replace_known):
    """The index's most used word within edit distance 1 (else 2) of `word`, or None.

    A word the index knows is kept unless `replace_known`.
    """
    candidates = _edits1(word) | {word}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT term, docs FROM {TERM_TABLE} WHERE term IN ({_placeholders(candidates)})",
            list(candidates),
        )
        known = dict(cursor.fetchall())
        if word in known and not replace_known:
            return None
        own = known.pop(word, 0)
        if not known and len(word) >= 5:
            # Distance 2: words of a similar length sharing the first letter.
            cursor.execute(
                f"SELECT term, docs FROM {TERM_TABLE} WHERE term >= %s AND term < %s "
                "AND length(term) BETWEEN %s AND %s",
                [word[0], word[0] + "\uffff", len(word) - 2, len(word) + 2],
            )
            known = {term: docs for term, docs in cursor.fetchall() if _distance(word, term) <= 2}
    known = {term: docs for term, docs in known.items() if docs >= own}
    if not known:
        return None
    return max(known, key=lambda term: (-_distance(word, term), known[term], term))


def suggest(words, total, *, engine=None, public=True):
    """("better query", its result count) built from the index's vocabulary, or ("", 0).

    Unknown words are corrected first; when that changes nothing, known but rare words
    are tried too. Offered only when the corrected query finds published articles, and
    at least SUGGEST_GAIN times as many as the reader's query when that found some.
    """
    engine = engine or backend()
    for replace_known in (False, True):
        corrected = [
            (_correction(word, replace_known=replace_known) if len(word) >= 3 and word.isalpha() else None) or word
            for word in words
        ]
        if corrected != list(words):
            break
    else:
        return "", 0
    count, _capped = engine.count(corrected, engine.filters(tag_id=None, public=public, now=timezone.now()))
    if count == 0 or count < SUGGEST_GAIN * total:
        return "", 0
    return " ".join(corrected), count


# --- Keeping the index in step ----------------------------------------------------------


def _plain_text(html_text):
    # body_html is sanitised markup (nh3), so a simple tag pattern suffices and is far
    # faster than strip_tags() when rebuilding 100,000 articles. A tag becomes a space so
    # words in adjacent elements stay apart. The text is escaped again when shown.
    return html.unescape(_TAG.sub(" ", html_text))


def _document(article):
    def clean(text):
        return _SPACE.sub(" ", _CONTROL.sub(" ", text or "")).strip()

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


def _terms(doc):
    text = fold(" ".join((doc["title"], doc["summary"], doc["body"], doc["tags"])))
    return {word for word in _WORD.findall(text) if 3 <= len(word) <= 40 and word.isalpha()}


def index_articles(ids):
    """Bring the index in step with these articles: (re)index them, drop deleted ones."""
    ids = {int(pk) for pk in ids}
    if not ids:
        return
    engine = backend()
    articles = Article.objects.filter(pk__in=ids).prefetch_related("tags")
    docs = [_document(article) for article in articles]
    terms = set().union(*(_terms(doc) for doc in docs)) if docs else set()
    with transaction.atomic(), connection.cursor() as cursor:
        engine.delete(cursor, ids)
        if docs:
            engine.insert(cursor, docs)
        if terms:
            # Counts are refreshed by rebuild_search_index; a new word starts at 1.
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
            cursor.execute(f"DELETE FROM {TERM_TABLE}")
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
                for term in _terms(doc):
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
            cursor.execute(f"DELETE FROM {TERM_TABLE}")


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
