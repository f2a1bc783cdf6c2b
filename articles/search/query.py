"""The reader's text as plain words, and how the index reads them."""

# S608: the SQL names only this package's table constants; values travel as parameters.
# ruff: noqa: S608

import re
import unicodedata

from django.db import connection

from .base import TERM_TABLE, in_list

MAX_QUERY_CHARS = 200
MAX_WORDS = 12
# The last word matches as a prefix only from this length: "a*" would expand to
# thousands of terms and cost more than any ordinary query.
PREFIX_MIN_LENGTH = 3
PREFIX_EXPANSIONS = 20

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
WORD = re.compile(r"[^\W_]+")


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
    text = CONTROL.sub(" ", str(query)[:MAX_QUERY_CHARS])
    return WORD.findall(fold(unicodedata.normalize("NFKC", text)))[:MAX_WORDS]


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
    real prefix query's postings in full before returning anything, but reads an OR
    lazily, stopping at the LIMIT.
    """
    terms = Terms(words)
    if not words:
        return terms
    last = words[-1]
    with connection.cursor() as cursor:
        placeholders, params = in_list("term", sorted(set(words)))
        cursor.execute(f"SELECT term, docs FROM {TERM_TABLE} WHERE term IN ({placeholders})", params)
        terms.counts = dict(cursor.fetchall())
        if len(last) < PREFIX_MIN_LENGTH or last in terms.counts:
            return terms
        cursor.execute(
            f"SELECT term, docs FROM {TERM_TABLE} WHERE term > %(low)s AND term < %(high)s "
            "ORDER BY docs DESC, term LIMIT %(limit)s",
            {"low": last, "high": last + "\uffff", "limit": PREFIX_EXPANSIONS},
        )
        expansions = cursor.fetchall()
    terms.expansions = tuple(term for term, _docs in expansions)
    if expansions:
        terms.counts[last] = expansions[0][1]
    terms.prefix = True
    return terms


def is_prefix(words, index):
    """Whether words[index] matches as a prefix (only the last word of Terms can)."""
    return index == len(words) - 1 and getattr(words, "prefix", False)
