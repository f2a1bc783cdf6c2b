"""PostgreSQL: a narrow table with a stored weighted tsvector (title A, summary and tags B,
body C) and GIN indexes, ts_rank; snippets cut in Python around the words whose stem (kept
in the vocabulary) is one of the query's lexemes.

The index row keeps a copy of the article's status, publication time and tag ids, so the
public filter and the facets read only the row they are testing.
"""

# S608: the SQL names only this package's table constants; values travel as parameters.
# ruff: noqa: S608

from django.db import connection

from ..models import Article
from .base import TERM_TABLE, Ranking, SearchBackend, tagged_sql
from .query import fold, is_prefix
from .snippets import marked_snippet, match_pattern

DOCUMENT_TABLE = "articles_search_document"
CONFIG = "english"
WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"  # D, C (body), B (summary, tags), A (title)
# The reader's words (PostgresBackend.tsquery()), and the same in the title only.
QUERY = "to_tsquery(%(config)s::regconfig, %(query)s)"
TITLE_QUERY = "to_tsquery(%(config)s::regconfig, %(title_query)s)"


class PostgresBackend(SearchBackend):
    """A stored weighted tsvector with GIN indexes, found with bitmap scans only."""

    vendor = "postgresql"
    # Each document also holds a lexeme naming its id bucket ("~97" for ids 99,328-100,351),
    # which clean_query() can never produce (no punctuation survives). A word AND the
    # newest buckets then finds the newest matches inside the GIN index.
    recent_bucket_bits = 10
    recent_max_buckets = 64

    @staticmethod
    def tsquery(words, weight=""):
        """to_tsquery() text for the words (AND; OR for the title test). The words hold
        letters and digits only (clean_query), and are quoted as lexemes all the same."""
        parts = []
        for i, word in enumerate(words):
            lexeme = "'" + word.replace("'", "''").replace("\\", "") + "'"
            suffix = ("*" if is_prefix(words, i) else "") + weight
            parts.append(f"{lexeme}:{suffix}" if suffix else lexeme)
        return (" | " if weight else " & ").join(parts)

    @classmethod
    def bucket_lexeme(cls, article_id):
        return f"~{article_id >> cls.recent_bucket_bits}"

    @staticmethod
    def _filter_sql(filters):
        """SQL after every match: the public and tag filters.

        Public: the row's copy of the status and publication time, compared with the
        time of the query (a scheduled article turns public with no save). Every save,
        and index_articles() after a QuerySet.update(), refresh the copy; the shown page
        is checked against the article itself all the same. Reading the articles table
        here instead would cost a heap visit per hidden article on every search.
        """
        sql = ""
        if filters.tag_id is not None:
            sql += f" AND article_id IN ({tagged_sql()})"
        if filters.public:
            sql += " AND status = %(published)s AND published_at <= %(now)s"
        return sql

    def _params(self, words, filters):
        return {
            "config": CONFIG,
            "query": self.tsquery(words),
            "tag_id": filters.tag_id,
            "published": Article.Status.PUBLISHED,
            "now": filters.now,
            "count_limit": self.count_cap + 1,
            "count_cap": self.count_cap,
            "candidates": self.candidates,
        }

    @staticmethod
    def _fetch_bitmap_only(sql, params):
        """The rows of `sql`, planned with the GIN indexes' bitmap scans only.

        The vectors live in TOAST, so the heap looks tiny and the planner prices a
        sequential scan, or a walk down the primary key testing each row, as cheap: it
        does not see that each test decompresses a vector (far slower than a bitmap scan
        of the GIN index). Only bitmap scans remain.

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
        sql = (
            f"SELECT count(*) FROM (SELECT 1 FROM {DOCUMENT_TABLE} "
            f"WHERE document @@ {QUERY}{self._filter_sql(filters)} "
            "LIMIT %(count_limit)s) AS matches"
        )
        [(count,)] = self._fetch_bitmap_only(sql, self._params(words, filters))
        return self.capped(count)

    def ranked(self, words, filters, *, exact_to=None):
        """The count and both candidate sets in one statement, one round trip, with the
        tag ids of each candidate (the facets and the shown articles' tags need no other
        look at the tags table).

        The newest matches anywhere are ranked on the whole document, the newest in the
        head on the head (title first). The matches are found once (the `matches` CTE,
        read lazily): the count stops at count_cap + 1 rows, the newest `candidates` read
        them all. ts_rank runs in the outer query, after the LIMIT: only for the rows kept,
        and on the whole document only when the head candidates are fewer than `exact_to`
        (see SearchBackend.ranked()): each document is read from TOAST for it.
        """
        where = self._filter_sql(filters)
        params = {
            **self._params(words, filters),
            "title_query": self.tsquery(words, weight="A"),
            "weights": WEIGHTS,
        }
        with_sql = (
            f"WITH matches AS MATERIALIZED (SELECT article_id FROM {DOCUMENT_TABLE} WHERE document @@ {QUERY}{where}) "
        )
        count_sql = "(SELECT count(*) FROM (SELECT 1 FROM matches LIMIT %(count_limit)s) AS capped)"
        newest_sql = "ARRAY(SELECT article_id FROM matches ORDER BY article_id DESC LIMIT %(candidates)s)"
        newest_heads_sql = (
            f"ARRAY(SELECT article_id FROM {DOCUMENT_TABLE} "
            f"WHERE head @@ {QUERY}{where} ORDER BY article_id DESC LIMIT %(candidates)s)"
        )
        params["buckets"] = self._recent_window(words)
        if params["buckets"] is not None:
            # Many matches: reading them all from the table (for their ids) and sorting
            # them costs a little for each. First the matches among the newest ids: the
            # word AND one of the newest id-bucket lexemes, intersected inside the GIN
            # index, so only those rows are read. When they are more than count_cap the
            # count is capped without counting the rest; when they hold `candidates`
            # those are the newest. Otherwise the full queries run (a subquery in a CASE
            # runs only when reached), so the results are the same either way.
            # The same rows say which of them match in the head (a head match is a
            # document match): when `candidates` do, those are the newest head matches,
            # and the head index's matches (thousands for a subject word) are not read.
            # A query of stop words only is an empty tsquery, and empty && buckets would
            # be the buckets alone (every recent article): then the window holds nothing.
            with_sql += (
                f", window_rows AS MATERIALIZED (SELECT article_id, head @@ {QUERY} AS in_head "
                f"FROM {DOCUMENT_TABLE} WHERE numnode({QUERY}) > 0 "
                f"AND document @@ ({QUERY} && %(buckets)s::tsquery){where}), "
                "recent AS MATERIALIZED (SELECT "
                "ARRAY(SELECT article_id FROM window_rows ORDER BY article_id DESC LIMIT %(count_limit)s) AS ids, "
                "ARRAY(SELECT article_id FROM window_rows WHERE in_head "
                "ORDER BY article_id DESC LIMIT %(candidates)s) AS head_ids) "
            )
            count_sql = (
                f"(SELECT CASE WHEN cardinality(ids) > %(count_cap)s THEN cardinality(ids) ELSE {count_sql} END "
                "FROM recent)"
            )
            newest_sql = (
                "(SELECT CASE WHEN cardinality(ids) >= %(candidates)s THEN ids[1:%(candidates)s] "
                f"ELSE {newest_sql} END FROM recent)::bigint[]"
            )
            newest_heads_sql = (
                "(SELECT CASE WHEN cardinality(head_ids) >= %(candidates)s THEN head_ids "
                f"ELSE {newest_heads_sql} END FROM recent)::bigint[]"
            )
        with_sql += f", heads AS MATERIALIZED (SELECT {newest_heads_sql} AS ids) "
        document_rank = f"ts_rank(%(weights)s::float4[], document, {QUERY})"
        if exact_to is not None:
            params["exact_to"] = exact_to
            document_rank = (
                "CASE WHEN (SELECT cardinality(ids) FROM heads) >= %(exact_to)s "
                f"THEN 0::float4 ELSE {document_rank} END"
            )
        sql = (
            f"{with_sql}SELECT 0, {count_sql}, 0::float4, false, NULL::integer[] "
            "UNION ALL "
            f"SELECT 1, article_id, {document_rank}, false, tag_ids "
            f"FROM {DOCUMENT_TABLE} WHERE article_id = ANY({newest_sql}) "
            "UNION ALL "
            f"SELECT 2, article_id, ts_rank(%(weights)s::float4[], head, {QUERY}), head @@ {TITLE_QUERY}, tag_ids "
            f"FROM {DOCUMENT_TABLE} WHERE article_id = ANY((SELECT ids FROM heads)::bigint[])"
        )
        rows = self._fetch_bitmap_only(sql, params)
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
        return Ranking(*self.capped(count), scores, tag_ids)

    @classmethod
    def _recent_window(cls, words):
        """A tsquery of the id buckets that most likely hold the newest 1.5 x count_cap
        matches, when they span less than half the ids and at most recent_max_buckets
        buckets; else None (search every match).

        Estimated from the vocabulary's counts of the words (treated as independent);
        a wrong guess costs a little time, never results (see ranked())."""
        counts = getattr(words, "counts", {})
        if not words or any(word not in counts for word in words):
            return None
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT max(article_id) FROM {DOCUMENT_TABLE}")
            last_id = cursor.fetchone()[0]
        if not last_id:
            return None
        expected = last_id
        for word in set(words):
            expected = expected * counts[word] / last_id
        if expected < 1:
            return None
        span = (cls.count_cap + 1) * 3 // 2 * last_id / expected
        if span >= last_id / 2:
            return None
        return cls.bucket_query(int(last_id - span), last_id)

    @classmethod
    def bucket_query(cls, since, last_id):
        """tsquery text matching every id from `since` up (to just past `last_id`,
        for articles indexed meanwhile), by the bucket lexemes; None if too many."""
        bits = cls.recent_bucket_bits
        first, last = since >> bits, (last_id >> bits) + 1
        if last - first >= cls.recent_max_buckets:
            return None
        return " | ".join(f"'{cls.bucket_lexeme(n << bits)}'" for n in range(first, last + 1))

    def snippets(self, words, ids):
        """Snippets cut in Python around the matched words of each body.

        ts_headline() parses and stems every word of every body shown; instead the
        vocabulary says which surface words stem to the query's lexemes (its `stem`
        column), and the body is scanned for them.
        """
        if not ids:
            return {}
        exact = [word for i, word in enumerate(words) if not is_prefix(words, i)]
        prefix = words[-1] if getattr(words, "prefix", False) else ""
        # The vocabulary holds alphabetic words of 3 letters or more: "b12" and "uv" are
        # matched as typed, unless the configuration drops them as stop words ("a").
        unlisted = [word for word in exact if not word.isalpha() or len(word) < 3]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT article_id, body_text, ARRAY(SELECT term FROM {TERM_TABLE} "
                "WHERE stem = ANY(tsvector_to_array(to_tsvector(%(config)s::regconfig, %(exact)s))) "
                "OR stem LIKE (tsvector_to_array(to_tsvector(%(config)s::regconfig, %(prefix)s)))[1] || '%%'), "
                "ARRAY(SELECT word FROM unnest(%(unlisted)s::text[]) AS word "
                "WHERE numnode(plainto_tsquery(%(config)s::regconfig, word)) > 0) "
                f"FROM {DOCUMENT_TABLE} WHERE article_id = ANY(%(ids)s)",
                {"config": CONFIG, "exact": " ".join(exact), "prefix": prefix, "unlisted": unlisted, "ids": list(ids)},
            )
            rows = cursor.fetchall()
        if not rows:
            return {}
        _, _, surface_words, as_typed = rows[0]  # the same words for every row
        pattern = match_pattern(set(surface_words) | set(as_typed), prefix)
        return {article_id: marked_snippet(body, pattern) for article_id, body, *_words in rows}

    def any_id(self, column, ids):
        return f"{column} = ANY(%(ids)s)", {"ids": list(ids)}

    # Writing
    def delete(self, cursor, ids):
        cursor.execute(f"DELETE FROM {DOCUMENT_TABLE} WHERE article_id = ANY(%(ids)s)", {"ids": list(ids)})

    def insert(self, cursor, docs):
        # Accents are folded in Python: the english configuration keeps them.
        cursor.executemany(
            f"INSERT INTO {DOCUMENT_TABLE} (article_id, status, published_at, tag_ids, body_text, head, document) "
            "SELECT %(id)s, %(status)s, %(published_at)s, %(tag_ids)s, %(body)s, h, "
            "h || setweight(to_tsvector(%(config)s::regconfig, %(folded_body)s), 'C') "
            "|| array_to_tsvector(ARRAY[%(bucket)s]) FROM ("
            "SELECT setweight(to_tsvector(%(config)s::regconfig, %(folded_title)s), 'A') "
            "|| setweight(to_tsvector(%(config)s::regconfig, %(folded_rest)s), 'B') AS h) AS head",
            [
                {
                    "id": d["id"],
                    "status": d["status"],
                    "published_at": d["published_at"],
                    "tag_ids": d["tag_ids"],
                    "body": d["body"],
                    "config": CONFIG,
                    "folded_body": fold(d["body"]),
                    "bucket": self.bucket_lexeme(d["id"]),
                    "folded_title": fold(d["title"]),
                    "folded_rest": fold(d["summary"] + " " + d["tags"]),
                }
                for d in docs
            ],
        )

    def insert_terms(self, cursor, rows, *, skip_known=False):
        """Each word with its stem as the english configuration makes it (NULL for a stop
        word): the snippets look up surface words by stem."""
        conflict = " ON CONFLICT (term) DO NOTHING" if skip_known else ""
        cursor.executemany(
            f"INSERT INTO {TERM_TABLE} (term, docs, stem) "
            "SELECT %(term)s, %(docs)s, (tsvector_to_array(to_tsvector(%(config)s::regconfig, %(term)s)))[1]"
            f"{conflict}",
            [{"term": term, "docs": docs, "config": CONFIG} for term, docs in rows],
        )

    def clear(self, cursor):
        cursor.execute(f"TRUNCATE {DOCUMENT_TABLE}")  # no dead rows left for the GIN scans to skip

    def before_rebuild(self, cursor):
        # A GIN index built once over all rows is far faster to make, and to search,
        # than one grown row by row (whose pending list each search must scan).
        cursor.execute(f"DROP INDEX IF EXISTS {DOCUMENT_TABLE}_head, {DOCUMENT_TABLE}_document")

    def after_rebuild(self, cursor):
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(f"CREATE INDEX {DOCUMENT_TABLE}_head ON {DOCUMENT_TABLE} USING gin (head)")
        cursor.execute(f"CREATE INDEX {DOCUMENT_TABLE}_document ON {DOCUMENT_TABLE} USING gin (document)")

    def optimize(self, cursor):
        cursor.execute(f"ANALYZE {DOCUMENT_TABLE}")

    def is_empty(self, cursor):
        cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {DOCUMENT_TABLE})")
        return bool(cursor.fetchone()[0])
