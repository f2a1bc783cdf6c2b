"""SQLite: two FTS5 tables (porter stemming, unicode61 with accents folded), bm25() with
column weights, snippet() for the excerpt.

`articles_search_fts` holds every column; `articles_search_head` only title, summary and
tags, so the newest matches in those are as cheap to find as the newest anywhere.
"""

# S608: the SQL names only this package's table constants; values travel as parameters.
# ruff: noqa: S608

import json

from django.db import connection

from ..models import Article
from .base import MARK_END, MARK_START, SNIPPET_TOKENS, TERM_TABLE, Ranking, SearchBackend, in_list, tagged_sql
from .query import is_prefix

FTS_TABLE = "articles_search_fts"
HEAD_TABLE = "articles_search_head"
# In the tags column of an unpublished article. U+E000 is a private-use character: FTS5's
# unicode61 tokenizer keeps it in a word, clean_query() never lets one through.
UNPUBLISHED_MARK = "\ue000unpublished"
# Column weights: title above summary and tags, above the body.
WEIGHTS = {"w_title": 10.0, "w_summary": 4.0, "w_body": 1.0, "w_tags": 4.0}


def _quoted(word):
    return '"' + word.replace('"', '""') + '"'


class SQLiteBackend(SearchBackend):
    """FTS5. Filters use `+rowid` so SQLite walks the index's matches and checks each
    against a set built once, instead of rerunning the match for every listed id."""

    vendor = "sqlite"

    @staticmethod
    def match(words, *, public=False):
        """FTS5 query text: every word a quoted phrase (quotes doubled), all required;
        for the public, NOT the mark of an unpublished article (see _filter_sql())."""
        phrases = []
        for i, word in enumerate(words):
            if not is_prefix(words, i):
                phrases.append(_quoted(word))
            elif words.expansions:
                phrases.append("(" + " OR ".join(_quoted(w) for w in words.expansions) + ")")
            else:
                phrases.append(_quoted(word) + "*")
        text = " AND ".join(phrases)
        return f'({text}) NOT "{UNPUBLISHED_MARK}"' if public else text

    @staticmethod
    def _filter_sql(filters):
        """(WITH clause, SQL after every MATCH) for the public and tag filters.

        Public is published(): status "published" and a publication time in the past.
        The status is in the index: an unpublished article's tags column holds a mark no
        query can type, and match(public=True) excludes it inside FTS5 (a cheap merge of
        two lists). The time is read from articles_article when the query runs, since a
        scheduled article turns public with no save: "NOT IN" the few with a future or no
        publication time, each branch reading only an index. Written out rather than
        built by the ORM on every search; a test checks it against published() for every
        state. (Excluding drafts through "NOT IN" as well is slower: SQLite builds the
        list once per use, three a search.)
        """
        with_sql, sql = "", ""
        if filters.tag_id is not None:
            sql += f" AND +rowid IN ({tagged_sql()})"
        if filters.public:
            table = connection.ops.quote_name(Article._meta.db_table)
            # Computed once per statement (MATERIALIZED), however many parts use it.
            with_sql = (
                f"WITH search_hidden(id) AS MATERIALIZED (SELECT id FROM {table} WHERE published_at > %(now)s "
                f"UNION ALL SELECT id FROM {table} WHERE published_at IS NULL) "
            )
            sql += " AND +rowid NOT IN (SELECT id FROM search_hidden)"
        return with_sql, sql

    def _params(self, words, filters):
        return {
            "match": self.match(words, public=filters.public),
            "tag_id": filters.tag_id,
            "now": connection.ops.adapt_datetimefield_value(filters.now),
            "count_limit": self.count_cap + 1,
            "candidates": self.candidates,
        }

    @staticmethod
    def _count_sql(where):
        return (
            f"SELECT count(*) FROM (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %(match)s{where} "
            "LIMIT %(count_limit)s)"
        )

    def count(self, words, filters):
        with_sql, where = self._filter_sql(filters)
        with connection.cursor() as cursor:
            cursor.execute(with_sql + self._count_sql(where), self._params(words, filters))
            return self.capped(cursor.fetchone()[0])

    def ranked(self, words, filters, *, exact_to=None):
        """The count and both candidate sets in one statement.

        FTS5 walks matches in rowid order and stops at the LIMIT, computing bm25() only
        for the rows returned, and on the body only when the head candidates are fewer
        than `exact_to` (see SearchBackend.ranked()). (A `rowid IN (...)` list next to
        MATCH would rerun the whole match for every id: never use one.) A title score
        below zero means a query word is in the title.
        """
        with_sql, where = self._filter_sql(filters)
        params = {**self._params(words, filters), **WEIGHTS}
        heads_sql = (
            f"heads AS MATERIALIZED (SELECT rowid AS id, bm25({HEAD_TABLE}, %(w_title)s, %(w_summary)s, %(w_tags)s) "
            f"AS score, bm25({HEAD_TABLE}, 1.0, 0.0, 0.0) AS title_score FROM {HEAD_TABLE} "
            f"WHERE {HEAD_TABLE} MATCH %(match)s{where} ORDER BY rowid DESC LIMIT %(candidates)s) "
        )
        with_sql = f"{with_sql}, {heads_sql}" if with_sql else f"WITH {heads_sql}"
        body_rank = f"bm25({FTS_TABLE}, %(w_title)s, %(w_summary)s, %(w_body)s, %(w_tags)s)"
        if exact_to is not None:
            params["exact_to"] = exact_to
            body_rank = f"CASE WHEN (SELECT count(*) FROM heads) >= %(exact_to)s THEN 0.0 ELSE {body_rank} END"
        sql = (
            f"{with_sql}SELECT 0, ({self._count_sql(where)}), 0.0, 0.0 "
            "UNION ALL SELECT * FROM ("
            f"SELECT 1, rowid, {body_rank}, 0.0 "
            f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %(match)s{where} ORDER BY rowid DESC LIMIT %(candidates)s) "
            "UNION ALL SELECT 2, id, score, title_score FROM heads"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        count, scores = 0, {}
        for kind, value, score, title_score in rows:
            if kind == 0:
                count = value
            elif kind == 1:
                scores.setdefault(value, (2, score))
            else:
                scores[value] = (0 if title_score < 0 else 1, score)
        return Ranking(*self.capped(count), scores)

    def snippets(self, words, ids):
        if not ids:
            return {}
        params = {"start": MARK_START, "end": MARK_END, "cut": "…", "tokens": SNIPPET_TOKENS}
        params["match"] = self.match(words)
        parts = []
        for i, article_id in enumerate(ids):
            params[f"id_{i}"] = article_id
            parts.append(
                f"SELECT rowid, snippet({FTS_TABLE}, 2, %(start)s, %(end)s, %(cut)s, %(tokens)s) FROM {FTS_TABLE} "
                f"WHERE {FTS_TABLE} MATCH %(match)s AND rowid = %(id_{i})s"
            )
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            return dict(cursor.fetchall())

    def any_id(self, column, ids):
        return f"{column} IN (SELECT value FROM json_each(%(ids)s))", {"ids": json.dumps(list(ids))}

    # Writing
    def delete(self, cursor, ids):
        placeholders, params = in_list("id", list(ids))
        for table in (FTS_TABLE, HEAD_TABLE):
            cursor.execute(f"DELETE FROM {table} WHERE rowid IN ({placeholders})", params)

    def insert(self, cursor, docs):
        def row(doc):
            unpublished = doc["status"] != Article.Status.PUBLISHED
            tags = f"{doc['tags']} {UNPUBLISHED_MARK}" if unpublished else doc["tags"]
            return {
                "id": doc["id"],
                "title": doc["title"],
                "summary": doc["summary"],
                "body": doc["body"],
                "tags": tags,
            }

        rows = [row(doc) for doc in docs]
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE} (rowid, title, summary, body, tags) "
            "VALUES (%(id)s, %(title)s, %(summary)s, %(body)s, %(tags)s)",
            rows,
        )
        cursor.executemany(
            f"INSERT INTO {HEAD_TABLE} (rowid, title, summary, tags) "
            "VALUES (%(id)s, %(title)s, %(summary)s, %(tags)s)",
            rows,
        )

    def insert_terms(self, cursor, rows, *, skip_known=False):
        conflict = " ON CONFLICT (term) DO NOTHING" if skip_known else ""
        cursor.executemany(
            f"INSERT INTO {TERM_TABLE} (term, docs) VALUES (%(term)s, %(docs)s){conflict}",
            [{"term": term, "docs": docs} for term, docs in rows],
        )

    def clear(self, cursor):
        for table in (FTS_TABLE, HEAD_TABLE):
            cursor.execute(f"DELETE FROM {table}")

    def optimize(self, cursor):
        for table in (FTS_TABLE, HEAD_TABLE):
            cursor.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")

    def is_empty(self, cursor):
        cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {HEAD_TABLE})")
        return bool(cursor.fetchone()[0])
