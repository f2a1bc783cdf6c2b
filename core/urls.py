"""`reverse()` remembered: a page of cards reverses the same few patterns dozens of times."""

import re
from functools import lru_cache

from django.urls import get_script_prefix, reverse

# What Django's `slug` converter accepts: reverse() puts it into the address unchanged.
_ASCII_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
_SLUG_MARK = "0slug0"


def cached_reverse(viewname, *args):
    """`reverse(viewname, args=args)`, computed once per script prefix and arguments.

    `{% url %}` costs about 45 us a link on this machine (measured): a search page's
    fifty tag and article links took 2 ms of its render. URL patterns never change while
    the process runs; the script prefix, which can, is part of the key.
    """
    return _reverse(get_script_prefix(), viewname, args)


def slug_reverse(viewname, slug):
    """`reverse(viewname, args=[slug])` for a pattern whose one argument is `<slug:...>`.

    The address is reversed once per pattern with a stand-in, and each slug put in its
    place: the same address, without a reverse() (or a cache entry) per article, which
    on a search page is mostly a miss (its ten articles are rarely the last page's ten).
    A slug the converter would refuse goes through reverse(), and raises as it would.
    """
    template = _slug_template(get_script_prefix(), viewname)
    if template is None or not _ASCII_SLUG.fullmatch(slug):
        return reverse(viewname, args=[slug])
    return template.replace(_SLUG_MARK, slug)


@lru_cache(maxsize=8192)
def _reverse(_script_prefix, viewname, args):
    return reverse(viewname, args=args)


@lru_cache(maxsize=64)
def _slug_template(_script_prefix, viewname):
    address = reverse(viewname, args=[_SLUG_MARK])
    return address if address.count(_SLUG_MARK) == 1 else None
