"""core.urls.cached_reverse() and slug_reverse(): the same addresses as reverse(), remembered per
script prefix."""

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from articles.templatetags.article_tags import tag_url
from core.urls import cached_reverse, slug_reverse


def test_the_same_address_as_reverse_for_any_slug():
    for slug in ("magnesium", "café-crème", "ω-3", "a-b-c"):
        assert cached_reverse("articles:tag", slug) == reverse("articles:tag", args=[slug])
        assert tag_url(slug) == reverse("articles:tag", args=[slug])
    assert cached_reverse("articles:detail", "x") == reverse("articles:detail", kwargs={"slug": "x"})


def test_a_site_under_a_path_prefix_gets_its_own_addresses():
    """The script prefix (a site served under /blog/) is part of what is remembered."""
    assert cached_reverse("articles:tag", "sleep") == "/tags/sleep/"
    assert slug_reverse("articles:detail", "x") == "/articles/x/"
    set_script_prefix("/blog/")
    try:
        assert cached_reverse("articles:tag", "sleep") == "/blog/tags/sleep/"
        assert slug_reverse("articles:detail", "x") == "/blog/articles/x/"
    finally:
        set_script_prefix("/")
    assert cached_reverse("articles:tag", "sleep") == "/tags/sleep/"
    assert slug_reverse("articles:detail", "x") == "/articles/x/"


def test_slug_reverse_gives_the_address_reverse_gives_for_any_ascii_slug():
    for slug in ("magnesium-and-leg-cramps", "a", "A_b-9", "0slug0", "x0slug0y"):
        assert slug_reverse("articles:detail", slug) == reverse("articles:detail", args=[slug])
    assert slug_reverse("articles:author", "jane-doe") == "/authors/jane-doe/"


def test_slug_reverse_refuses_what_reverse_refuses():
    """A value the slug converter does not accept is not put into an address."""
    for value in ("café", "a/b", "", "a b"):
        with pytest.raises(NoReverseMatch):
            slug_reverse("articles:detail", value)
