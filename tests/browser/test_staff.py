"""Staff journeys in the admin: two-factor sign-in (first setup, then codes), write, preview and
publish an article; export signups as CSV."""

import csv
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from protocols.models import Protocol, Signup
from tests.browser.helpers import log_in, staff_user
from tests.helpers import totp_device

pytestmark = pytest.mark.browser

TITLE = "Zinc and Sleep Quality"
SLUG = "zinc-and-sleep-quality"


def test_editor_writes_previews_and_publishes_an_article(page, browser, seeded):
    """An editor creates a draft with tags and references, previews it, publishes it; readers then
    find it on the home page, in search and in the feed (and not before)."""
    staff_user("editor", "Editors")
    reader = browser.new_context()
    reader_page = reader.new_page()
    try:
        log_in(page, seeded, "editor")
        page.get_by_role("row", name=re.compile("^Articles")).get_by_role("link", name="Add").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Add article")
        page.get_by_label("Title:").press_sequentially(TITLE)  # typed: the slug follows keystrokes
        expect(page.get_by_label("Slug:")).to_have_value(SLUG)  # prefilled from the title
        page.get_by_label("Summary:").fill("What the evidence says about zinc and sleep, in plain words.")
        page.get_by_label("Body:").fill(
            "Some readers take zinc glycinate in the evening.\n\n## What studies looked at\n\nSmall trials.\n"
        )
        page.get_by_label("Tags:").fill("zinc, sleep")
        expect(page.get_by_label("Status:")).to_have_value("draft")
        page.locator("#id_references-0-title").fill("Zinc: fact sheet for health professionals")
        page.locator("#id_references-0-url").fill("https://ods.od.nih.gov/factsheets/Zinc-HealthProfessional/")
        page.get_by_role("button", name="Save and continue editing").click()
        expect(page.locator(".messagelist")).to_contain_text("was added successfully")

        # Readers cannot see the draft yet.
        assert reader_page.goto(f"{seeded}/articles/{SLUG}/").status == 404

        # Preview through "View on site": the draft page, clearly marked, with tags and references.
        page.get_by_role("link", name="View on site").click()
        expect(page).to_have_url(re.compile(rf"/articles/{SLUG}/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
        expect(page.get_by_role("status")).to_contain_text("Draft: not public.")
        expect(page.get_by_role("region", name="Topics").get_by_role("link")).to_have_text(["sleep", "zinc"])
        expect(page.get_by_role("region", name="References").get_by_role("link")).to_have_text(
            ["Zinc: fact sheet for health professionals"]
        )

        # Publish.
        page.go_back()
        page.get_by_label("Status:").select_option("published")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
        expect(page.get_by_role("row", name=re.compile(TITLE))).to_contain_text("Published")

        # A reader sees it on the home page, in search and in the feed.
        reader_page.goto(seeded + "/")
        reader_page.get_by_role("main").get_by_role("link", name=TITLE).click()
        expect(reader_page.get_by_role("heading", level=1)).to_have_text(TITLE)
        expect(reader_page.locator(".draft-notice")).to_have_count(0)

        box = reader_page.get_by_role("searchbox", name="Search articles")
        box.fill("glycinate")
        box.press("Enter")
        expect(reader_page.locator(".search-results").get_by_role("link", name=TITLE)).to_be_visible()
        expect(reader_page.locator(".search-results mark").first).to_have_text(re.compile("glycinate", re.I))

        feed = reader_page.request.get(seeded + "/feed/")
        assert feed.ok
        assert f"<title>{TITLE}</title>" in feed.text()
        assert f"/articles/{SLUG}/</link>" in feed.text()
    finally:
        reader.close()


def test_marketing_exports_signups_as_csv(page, seeded):
    """A Marketing user selects the signups and downloads them as a CSV file."""
    totp_device(staff_user("marketer", "Marketing"))  # set up on an earlier day
    protocol = Protocol.objects.get(slug="sleep-protocol")
    now = timezone.now()
    for email, status in [("ann@example.org", "confirmed"), ("bob@example.org", "pending")]:
        Signup.objects.create(
            protocol=protocol, email=email, status=status, consent_text=protocol.consent_text, consented_at=now
        )

    log_in(page, seeded, "marketer")
    page.get_by_role("link", name="Signups").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Select signup to view")
    page.get_by_role("checkbox", name="Select all objects on this page for an action").check()
    page.get_by_label("Action:").select_option(label="Export selected as CSV")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Go").click()
    download = download_info.value
    assert re.fullmatch(r"signups-\d{8}-\d{4}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted((row["email"], row["status"]) for row in rows) == [
        ("ann@example.org", "confirmed"),
        ("bob@example.org", "pending"),
    ]
    assert {row["protocol"] for row in rows} == {"Sleep Protocol"}
