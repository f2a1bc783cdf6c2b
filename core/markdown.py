"""Markdown source to sanitised HTML, once, when content is saved: article bodies, protocol
descriptions and program emails share these rules."""

import re

import nh3
from django.utils.text import slugify
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from mdit_py_plugins.footnote import footnote_plugin


def _citation_ref(self, tokens, idx, options, env):
    """`[^3]` links to the article's third reference; the reference links back to the first `[^3]`."""
    meta = tokens[idx].meta
    label = meta["label"]
    if not label.isdigit() or int(label) == 0:
        return escapeHtml(f"[^{label}]")  # only numbered markers cite references
    number = int(label)
    anchor = f"cite-{number}" if meta["subId"] == 0 else f"cite-{number}-{meta['subId'] + 1}"
    return f'<sup><a href="#ref-{number}" id="{anchor}">[{number}]</a></sup>'


# Footnote markers only: definitions ("[^1]: ...") and inline notes are not used, the
# numbered list is the article's references. The plugin's end-of-document block is off.
_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .use(footnote_plugin, inline=False, always_match_refs=True)
    .disable(["footnote_def", "footnote_tail"])
)
_markdown.add_render_rule("footnote_ref", _citation_ref)

# `![alt override](image:42)` names image 42 of the articles' image library. Rendering
# leaves a marker that the page expands when it is shown (articles.images.markdown), so a
# new rendition, alt text or caption shows without saving every article again
# (docs/decisions/body-images-expanded-per-request.md). Other image sources render nothing.
LIBRARY_IMAGE_SRC = re.compile(r"^image:(\d{1,12})$")
_LONE_MARKER = re.compile(r"<p>\s*(<figure data-image=\"\d+\"[^>]*></figure>)\s*</p>")


def _library_image(self, tokens, idx, options, env):
    token = tokens[idx]
    match = LIBRARY_IMAGE_SRC.match(token.attrGet("src") or "")
    if match is None or not env.get("library_images"):
        return ""
    alt = self.renderInlineAsText(token.children or [], options, env).strip()
    alt_attribute = f' data-alt="{escapeHtml(alt)}"' if alt else ""
    return f'<figure data-image="{match.group(1)}"{alt_attribute}></figure>'


_markdown.add_render_rule("image", _library_image)
CITE_ID = re.compile(r'<a href="#ref-\d+" id="cite-(\d+)"')

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "em", "figcaption", "figure", "h2", "h3", "h4",
    "hr", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "figure": {"data-image", "data-alt"},
}
_HEADING = re.compile(r"<(h[2-4])>(.*?)</\1>", re.S)
_TAG = re.compile(r"<[^>]+>")
_CITATION_IDS = re.compile(r"^(?:ref|cite)-\d")


# Ids the page layout around a Markdown body uses (the skip link's "main", the article's
# "toc-title", the signup form's "error-summary", ...): a body heading never takes one, or a
# heading "Main" would capture the skip link. Each app reserves the ids of its own templates
# in its AppConfig.ready(); a test checks that every literal id in the templates is reserved.
_reserved_ids = set()


def reserve_ids(*ids):
    """Keep these ids, used by an app's templates around rendered Markdown, out of headings."""
    _reserved_ids.update(ids)


def reserved_ids():
    return frozenset(_reserved_ids)


def _add_heading_ids(html):
    """Give h2-h4 stable ids from their text, unique within the page."""
    seen = dict.fromkeys(_reserved_ids, 1)

    def replace(match):
        level, inner = match.group(1), match.group(2)
        base = slugify(_TAG.sub("", inner)) or "section"
        if _CITATION_IDS.match(base):  # "ref-2" and "cite-2" belong to citations
            base = f"section-{base}"
        count = seen.get(base, 0)
        seen[base] = count + 1
        anchor = base if count == 0 else f"{base}-{count + 1}"
        return f'<{level} id="{anchor}">{inner}</{level}>'

    return _HEADING.sub(replace, html)


def render_markdown(source, *, library_images=False):
    """Render Markdown and keep only safe tags, attributes and URL schemes.

    `library_images`: leave a marker for each `![...](image:N)` (article bodies, whose pages
    expand them); elsewhere (emails, protocol pages) image syntax renders nothing.
    """
    env = {"library_images": library_images}
    # A library image alone in its paragraph becomes a figure of its own (a figure cannot sit in a <p>).
    html = _LONE_MARKER.sub(r"\1", _markdown.render(source or "", env))
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return _add_heading_ids(clean)
