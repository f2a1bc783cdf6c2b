"""Snippets: about SNIPPET_TOKENS words of a body around the words a query matched.

SQLite's FTS5 makes its own with snippet(); PostgreSQL's are cut here (see
PostgresBackend.snippets()). Either way the text arrives with MARK_START and MARK_END
around matches and leaves as safe HTML with <mark>.
"""

import re
from bisect import bisect_left
from itertools import islice

from django.utils.html import escape

from .base import MARK_END, MARK_START, SNIPPET_TOKENS
from .query import WORD, fold


def match_pattern(words, prefix=""):
    """A regex for these words (folded), or any word starting with `prefix`, that ends
    where a word ends; marked_snippet() checks where it starts. (A look-behind first
    would make the scan try every position, far slower.)"""
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
    matches are found by one regex scan (splitting every body is slower).
    """
    folded = _fold_in_place(text)
    hits = [hit for hit in pattern.finditer(folded) if not hit.start() or not folded[hit.start() - 1].isalnum()]
    start = 0
    if hits:
        best = _densest_window_start(hits, reach=size * 7)  # `size` words are about 7 x size characters
        look_back = max(0, best.start() - 80)
        before = list(WORD.finditer(folded, look_back, best.start()))
        if before and look_back and before[0].start() == look_back:
            before = before[1:]  # a word the look-back cut in two
        start = before[-3:][0].start() if before else best.start()
    words = list(islice(WORD.finditer(text, start), size + 1))
    if len(words) < size and start:  # near the end: take earlier words to fill the window
        earlier = list(WORD.finditer(text, max(0, start - 20 * size), start))[len(words) - size :]
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
    cut_before = start > 0 and WORD.search(folded, 0, start) is not None
    return ("…" if cut_before else "") + "".join(parts) + ("…" if len(words) > size else "")


def _densest_window_start(hits, *, reach):
    """The hit that starts the window of `reach` characters holding the most distinct
    matched words: the earliest of equals, among the first 50 hits (bounded however often
    a word recurs). The hits are in text order, so each window is a slice of them."""
    starts = [hit.start() for hit in hits]
    words = [hit.group() for hit in hits]
    best, best_count = 0, 0
    for i in range(min(50, len(hits))):
        count = len(set(words[i : bisect_left(starts, starts[i] + reach, i)]))
        if count > best_count:
            best, best_count = i, count
    return hits[best]


def snippet_html(raw, fallback):
    """The snippet as safe HTML (escaped, matches in <mark>); the escaped `fallback`
    (the summary) when the backend gave none."""
    if not raw:
        return escape(fallback)
    return escape(raw).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
