"""The Markdown rules shared by article bodies, protocol descriptions and program emails."""

import re
from pathlib import Path

from django.conf import settings

from core.markdown import render_markdown, reserved_ids


def test_heading_ids_never_take_an_id_of_the_page_layout():
    """A body heading "Main" must not capture the skip link's target, nor any other id the
    templates use: the apps reserve every literal id of the templates."""
    literal_ids = set()
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        literal_ids |= set(re.findall(r'\bid="([^"{]+)"', template.read_text()))
    assert literal_ids <= reserved_ids(), literal_ids - reserved_ids()
    html = render_markdown("## Main\n\nText.\n\n## Main\n\nMore.\n\n## References title\n")
    assert '<h2 id="main-2">Main</h2>' in html and '<h2 id="main-3">Main</h2>' in html
    assert 'id="main"' not in html


def test_raw_html_is_shown_as_text_and_unsafe_links_are_not_links():
    html = render_markdown('<script>alert(1)</script>\n\n[x](javascript:alert(1)) <b onclick="x">b</b>')
    assert "&lt;script&gt;" in html and "<script" not in html
    assert "<b " not in html and "<a" not in html


def test_library_images_leave_a_marker_only_where_the_page_expands_them():
    """Article bodies keep `![alt](image:42)` as a marker; emails and protocol pages, which
    have no library expansion, show nothing for image syntax (as for outside addresses)."""
    source = 'Text.\n\n![A "quoted" <alt>](image:42)\n\n![x](https://tracker.example/p.png)'
    article = render_markdown(source, library_images=True)
    assert '<figure data-image="42" data-alt="A &quot;quoted&quot; &lt;alt&gt;"></figure>' in article
    assert "<p><figure" not in article and "tracker" not in article
    elsewhere = render_markdown(source)
    assert "figure" not in elsewhere and "42" not in elsewhere and "tracker" not in elsewhere
