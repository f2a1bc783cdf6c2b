"""What every backend shares: the filters of a query, the ranking it returns, the interface.

A backend turns cleaned words (query.Terms) into SQL for one database vendor; everything
else in this package (results, snippets, facets, suggestions, indexing) goes through it.
The SQL of this package names only its own table constants; every value, above all the
reader's words, travels as a named query parameter (`%(name)s` with a dict).
"""

# S608: the SQL names only this package's table constants; values travel as parameters.
# ruff: noqa: S608

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from ..models import TaggedArticle

TERM_TABLE = "articles_search_term"
# Marks a backend puts around matches in a snippet; stripped from indexed text, so they
# can only come from the backend. The snippet is HTML-escaped, then these become <mark>.
MARK_START, MARK_END = "\x02", "\x03"
SNIPPET_TOKENS = 32


@dataclass(frozen=True)
class Filters:
    """What narrows every match query: published() at `now`, and a tag."""

    now: datetime
    public: bool = True
    tag_id: int | None = None  # None: any tag; a tag that does not exist (-1) matches nothing


@dataclass
class Ranking:
    """What ranked() found: how many matched (up to count_cap) and the ranked candidates."""

    count: int
    capped: bool  # more than count_cap matched
    scores: dict  # {article id: (tier, score)}, lowest first: 0 title, 1 summary or tags, 2 body
    tag_ids: dict | None = None  # {article id: [tag id, ...]} when the index keeps them (PostgreSQL)


class SearchBackend:
    """The interface of a backend: searching, snippets, and keeping the index in step.

    A search never ranks every match: ranking a common word's matches costs a time
    proportional to their number (see docs/search.md). It ranks at most two candidate
    sets, both cheap to find through the index in id order: the newest `candidates`
    articles matching anywhere and the newest matching in title, summary or tags. When
    there are fewer matches (almost every real query) the ranking is exact.
    """

    vendor = ""
    # How many matches each candidate set may hold.
    candidates = 300
    # Matches are counted up to here, no further: an exact count of a common word reads
    # every match. Beyond it the page says "more than".
    count_cap = 1_000

    # Searching
    def count(self, words, filters):
        """(matches up to count_cap, whether there were more)."""
        raise NotImplementedError

    def ranked(self, words, filters, *, exact_to=None):
        """A Ranking of the candidates, in one statement.

        The order has to be exact up to position `exact_to` (the end of the page shown;
        None: all through, as the admin wants). Every head match (title, summary or
        tags) ranks above every body-only match, so when the head candidates fill those
        positions the body-only matches are not ranked (it would read and score up to
        `candidates` whole documents for places no page shows): they get score 0 and
        follow in id order, newest first. A page further on ranks them.
        """
        raise NotImplementedError

    def snippets(self, words, ids):
        """{article id: text of its body around the matched words, between MARK_START and MARK_END}."""
        raise NotImplementedError

    def any_id(self, column, ids):
        """(SQL "column is one of ids", params) for a long list of ids, as one parameter."""
        raise NotImplementedError

    # Writing
    def delete(self, cursor, ids):
        raise NotImplementedError

    def insert(self, cursor, docs):
        raise NotImplementedError

    def insert_terms(self, cursor, rows, *, skip_known=False):
        """Vocabulary rows (word, number of articles); `skip_known` keeps existing counts."""
        raise NotImplementedError

    def clear(self, cursor):
        raise NotImplementedError

    def before_rebuild(self, cursor):
        pass

    def after_rebuild(self, cursor):
        pass

    def optimize(self, cursor):
        pass

    def is_empty(self, cursor):
        raise NotImplementedError

    def capped(self, count):
        return min(count, self.count_cap), count > self.count_cap


def in_list(name, values):
    """Named placeholders for a short list of values: ("%(name_0)s, %(name_1)s", params)."""
    params = {f"{name}_{i}": value for i, value in enumerate(values)}
    return ", ".join(f"%({key})s" for key in params), params


def tagged_sql():
    """The ids of the articles with the tag %(tag_id)s."""
    table = connection.ops.quote_name(TaggedArticle._meta.db_table)
    return f"SELECT content_object_id FROM {table} WHERE tag_id = %(tag_id)s"
