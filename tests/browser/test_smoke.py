"""The foundation's pages in a real browser: layout, skip link, no axe violations."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_home_renders_and_skip_link_moves_focus_to_main(page, site):
    """The first Tab reaches the skip link; following it puts focus on the main content."""
    page.goto(site + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_404_page_has_no_accessibility_violations(page, site, axe_violations):
    """The 404 page uses the site layout and passes axe's WCAG 2.1 A/AA rules."""
    response = page.goto(site + "/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert axe_violations(page) == []
