"""core.urls.cached_reverse(): the same addresses as reverse(), remembered per script prefix."""

from django.urls import reverse, set_script_prefix

from articles.templatetags.article_tags import tag_url
from core.urls import cached_reverse


def test_the_same_address_as_reverse_for_any_slug():
    for slug in ("magnesium", "café-crème", "ω-3", "a-b-c"):
        assert cached_reverse("articles:tag", slug) == reverse("articles:tag", args=[slug])
        assert tag_url(slug) == reverse("articles:tag", args=[slug])
    assert cached_reverse("articles:detail", "x") == reverse("articles:detail", kwargs={"slug": "x"})


def test_a_site_under_a_path_prefix_gets_its_own_addresses():
    """The script prefix (a site served under /blog/) is part of what is remembered."""
    assert cached_reverse("articles:tag", "sleep") == "/tags/sleep/"
    set_script_prefix("/blog/")
    try:
        assert cached_reverse("articles:tag", "sleep") == "/blog/tags/sleep/"
    finally:
        set_script_prefix("/")
    assert cached_reverse("articles:tag", "sleep") == "/tags/sleep/"
