"""A program step's Markdown as email HTML and plain text, with site links made absolute."""

import re

from django.conf import settings

from core.markdown import render_markdown

# href="/articles/..." (a site path, not "//host"): emails need the full address.
_SITE_HREF = re.compile(r'href="(/(?!/)[^"]*)"')
_MARKDOWN_LINK = re.compile(r"(?<!!)\[([^\]\n]+)\]\(\s*([^)\s]+)\s*\)")


def absolute_url(path):
    return f"{settings.SITE_URL}{path}"


def render_step_body(source):
    """Sanitised HTML (the articles' Markdown rules) with every site path made absolute."""
    return _SITE_HREF.sub(lambda m: f'href="{absolute_url(m.group(1))}"', render_markdown(source))


def step_body_text(source):
    """The plain-text part: the Markdown source, its links written out as "text (address)"."""

    def link(match):
        text, url = match.group(1), match.group(2)
        if url.startswith("/") and not url.startswith("//"):
            url = absolute_url(url)
        return f"{text} ({url})"

    return _MARKDOWN_LINK.sub(link, (source or "").replace("\r\n", "\n")).strip()
