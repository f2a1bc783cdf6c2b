"""A reader's journey in a real browser: home, the seed article, tags, related articles, search."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from articles.models import Article

pytestmark = pytest.mark.browser

SEED_TITLE = "Magnesium and Leg Cramps"
SECTIONS = [
    "What Causes Muscle Cramps in the Calves?",
    "Supplements Recommended for Prevention of Leg Cramps",
    "Preventing Leg Cramps",
    "Conclusion",
]


@pytest.fixture
def reader_site(seeded):
    """The seed content plus a second article that shares tags with the seed article."""
    article = Article.objects.create(
        title="Night-time Cramps and Sleep",
        slug="night-time-cramps-and-sleep",
        summary="Why cramps wake some people at night, and what tends to help them sleep through.",
        body="Cramps that strike at night can cut sleep short.\n\n## Stretching before bed\n\nA calf stretch.\n",
        status=Article.Status.PUBLISHED,
        published_at=timezone.now() - timedelta(days=2),
    )
    article.tags.set(["leg cramps", "sleep"])
    return seeded


def test_reader_goes_from_home_to_the_article_its_sections_tags_and_a_related_article(page, reader_site):
    """Home shows the banner and the articles; the article shows its four sections, the table of
    contents jumps to a section, and tag and related-article links lead on."""
    page.goto(reader_site + "/")
    expect(page.get_by_role("complementary", name="Announcement")).to_contain_text(
        "Our newest protocol, the Sleep Protocol is now available! Find out more here."
    )
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_role("main").get_by_role("link", name=SEED_TITLE).click()

    expect(page).to_have_url(re.compile(r"/articles/magnesium-and-leg-cramps/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(SEED_TITLE)
    body = page.locator(".article-body")
    for title in SECTIONS:
        expect(body.get_by_role("heading", level=2, name=title)).to_be_visible()

    # The table of contents jumps to a section: the URL gets its anchor, the heading is on screen.
    target = body.get_by_role("heading", level=2, name="Preventing Leg Cramps")
    expect(target).not_to_be_in_viewport()
    page.get_by_role("navigation", name="In this article").get_by_role("link", name="Preventing Leg Cramps").click()
    anchor = target.get_attribute("id")
    expect(page).to_have_url(re.compile(rf"#{re.escape(anchor)}$"))
    expect(target).to_be_in_viewport()

    # A related article shares tags with this one.
    related = page.get_by_role("region", name="Related articles")
    expect(related.get_by_role("link", name="Night-time Cramps and Sleep")).to_be_visible()

    # A tag link leads to the tag page, which lists both articles.
    page.get_by_role("region", name="Topics").get_by_role("link", name="leg cramps").click()
    expect(page).to_have_url(re.compile(r"/tags/leg-cramps/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Articles about leg cramps")
    expect(page.get_by_role("main").get_by_role("link", name=SEED_TITLE)).to_be_visible()

    # Back on the article, the related article opens.
    page.go_back()
    page.get_by_role("region", name="Related articles").get_by_role("link", name="Night-time Cramps and Sleep").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Night-time Cramps and Sleep")


def test_reader_searches_from_the_header_and_opens_the_article(page, reader_site):
    """ "cramping" finds the seed article with the matched words highlighted; the result opens it."""
    page.goto(reader_site + "/")
    box = page.get_by_role("search").get_by_role("searchbox", name="Search articles")
    box.fill("cramping")
    box.press("Enter")

    expect(page).to_have_url(re.compile(r"/search/\?q=cramping$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Search results for “cramping”")
    expect(page.get_by_role("searchbox", name="Search articles")).to_have_value("cramping")
    results = page.locator(".search-results > li")
    expect(results.first).to_be_visible()
    seed_result = results.filter(has=page.get_by_role("link", name=SEED_TITLE))
    marks = seed_result.locator(".search-snippet mark")
    expect(marks.first).to_be_visible()
    for text in marks.all_inner_texts():
        assert re.match(r"cramp", text, re.IGNORECASE), text

    seed_result.get_by_role("link", name=SEED_TITLE).click()
    expect(page).to_have_url(re.compile(r"/articles/magnesium-and-leg-cramps/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(SEED_TITLE)


def test_a_typo_offers_the_right_suggestion_and_following_it_finds_the_article(page, reader_site):
    """ "magnesuim" finds nothing; "Did you mean magnesium?" leads to results with the article."""
    page.goto(reader_site + "/")
    box = page.get_by_role("searchbox", name="Search articles")
    box.fill("magnesuim")
    box.press("Enter")

    expect(page.get_by_role("main")).to_contain_text("No articles found for “magnesuim”")
    suggestion = page.locator(".search-suggestion")
    expect(suggestion).to_contain_text("Did you mean magnesium?")
    suggestion.get_by_role("link", name="magnesium").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Search results for “magnesium”")
    page.locator(".search-results").get_by_role("link", name=SEED_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SEED_TITLE)
