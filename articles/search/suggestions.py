""" "Did you mean": a better query built from the index's vocabulary."""

# S608: the SQL names only this package's table constants; values travel as parameters.
# ruff: noqa: S608

from django.db import connection
from django.utils import timezone

from .backends import backend
from .base import TERM_TABLE, Filters, in_list

# Offered when a query finds at most this many articles...
FEW_RESULTS = 3
# ... and the suggestion finds at least this many times as many.
SUGGEST_GAIN = 5

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
    placeholders, params = in_list("term", list(_edits1(word) | {word}))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT term, docs FROM {TERM_TABLE} WHERE term IN ({placeholders})", params)
        known = dict(cursor.fetchall())
        if word in known and not replace_known:
            return None
        own = known.pop(word, 0)
        if not known and len(word) >= 5:
            # Distance 2: words of a similar length sharing the first letter.
            cursor.execute(
                f"SELECT term, docs FROM {TERM_TABLE} WHERE term >= %(low)s AND term < %(high)s "
                "AND length(term) BETWEEN %(shortest)s AND %(longest)s",
                {"low": word[0], "high": word[0] + "\uffff", "shortest": len(word) - 2, "longest": len(word) + 2},
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
    count, _capped = engine.count(corrected, Filters(now=timezone.now(), public=public))
    if count == 0 or count < SUGGEST_GAIN * total:
        return "", 0
    return " ".join(corrected), count
