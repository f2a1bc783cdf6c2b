"""Layout on a phone and a desktop: screenshots kept as test artefacts, no sideways scrolling at
320 px (WCAG 1.4.10 reflow, which is also what 400% zoom on a 1280 px screen gives), and a
comfortable line length for the article's text."""

import pytest
from playwright.sync_api import expect

from articles.models import Article

pytestmark = pytest.mark.browser

PAGES = {
    "home": "/",
    "article": "/articles/magnesium-and-leg-cramps/",
    "search": "/search/?q=magnesium",
    "protocol": "/protocols/sleep-protocol/",
}
WIDTHS = {"phone": (375, 812), "desktop": (1280, 900)}


@pytest.mark.parametrize("name", PAGES)
def test_screenshots_and_no_horizontal_scrolling(page, seeded, screenshot_dir, name):
    """Full-page screenshots at 375 and 1280 px wide (test-results/screenshots/); at 320 px the
    page is never wider than the screen."""
    page.goto(seeded + PAGES[name])
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=screenshot_dir / f"{name}-{width}.png", full_page=True)

    page.set_viewport_size({"width": 320, "height": 640})
    overflow = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll("body *")]
                .filter(el => el.getBoundingClientRect().right > width + 1)
                .map(el => el.tagName.toLowerCase() + (el.className ? "." + el.className : ""));
            return {scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 5)};
        }"""
    )
    assert overflow["scrollWidth"] <= 320, overflow


@pytest.mark.parametrize("width", [1280, 375])
def test_article_lines_are_comfortable_to_read(page, seeded, width):
    """Body paragraphs hold about 60-75 characters a line on a desktop, and no more on a phone."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(seeded + PAGES["article"])
    per_line = page.evaluate(
        """() => {
            // Measure the first long paragraph: characters divided by rendered lines.
            const p = [...document.querySelectorAll(".article-body p")].find(p => p.textContent.length > 300);
            const range = document.createRange();
            range.selectNodeContents(p);
            const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
            return p.textContent.length / lines;
        }"""
    )
    if width >= 1024:
        assert 60 <= per_line <= 78, per_line
    else:
        assert 30 <= per_line <= 60, per_line


def test_article_reads_at_200_percent_zoom(page, seeded):
    """At 200% zoom on a 1280 px screen (640 CSS px) nothing overlaps or scrolls sideways and the
    header's search stays usable."""
    page.set_viewport_size({"width": 640, "height": 450})
    page.goto(seeded + PAGES["article"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 640
    box = page.get_by_role("searchbox", name="Search articles")
    expect(box).to_be_visible()
    assert box.bounding_box()["width"] >= 150


def test_article_prints_without_site_chrome_and_with_reference_urls(page, seeded):
    """The print stylesheet drops the banner, header, search, table of contents and related
    articles, keeps the text and the disclaimer, and prints each reference's address."""
    article = Article.objects.get(slug="magnesium-and-leg-cramps")
    article.references.create(position=1, title="Magnesium fact sheet", url="https://ods.od.nih.gov/")
    page.goto(seeded + PAGES["article"])
    page.emulate_media(media="print")
    for selector in (".announcement", ".site-header", ".toc", ".site-footer nav"):
        expect(page.locator(selector)).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator(".disclaimer-box")).to_be_visible()
    after = page.locator(".references a").evaluate("a => getComputedStyle(a, '::after').content")
    assert after == '" (https://ods.od.nih.gov/)"'
    assert len(page.pdf(format="A4")) > 10_000
