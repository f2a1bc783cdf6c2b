"""A subscriber's journey: from the banner to a confirmed signup with the keyboard only, then out again."""

import re

import pytest
from playwright.sync_api import expect

from protocols.models import Signup

from .helpers import link_in, tab_to

pytestmark = pytest.mark.browser

EMAIL = "reader@example.org"


def test_subscriber_signs_up_with_the_keyboard_confirms_by_email_and_unsubscribes(page, seeded, deliver_emails):
    """Banner → protocol page → keyboard-only signup → thank-you → emailed link → confirm → confirmed;
    the unsubscribe link in the email then works."""
    page.goto(seeded + "/")

    # The banner's link is the second stop after the skip link; Enter follows it.
    banner_link = page.get_by_role("complementary", name="Announcement").get_by_role("link", name="Find out more here")
    tab_to(page, banner_link)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/protocols/sleep-protocol/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sleep Protocol")

    # Keyboard only: Tab to the field, type, Tab to the checkbox, Space, Tab to the button, Enter.
    email = page.get_by_role("textbox", name="Your email address")
    tab_to(page, email)
    page.keyboard.type(EMAIL)
    consent = page.get_by_role("checkbox", name=re.compile("I agree to receive the Sleep Protocol emails"))
    page.keyboard.press("Tab")
    expect(consent).to_be_focused()
    page.keyboard.press("Space")
    expect(consent).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign up")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/protocols/sleep-protocol/thanks/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    assert Signup.objects.get().status == Signup.Status.PENDING

    # The worker sends the queued confirmation email; its link opens the confirm page.
    outbox = deliver_emails()
    assert len(outbox) == 1
    message = outbox[0]
    assert message.to == [EMAIL]
    page.goto(link_in(message, "/protocols/confirm/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your signup")
    assert Signup.objects.get().status == Signup.Status.PENDING  # opening the link confirms nothing
    page.get_by_role("button", name="Confirm my signup").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are confirmed")
    expect(page.get_by_role("status")).to_contain_text(f"{EMAIL} is confirmed for the Sleep Protocol")
    assert Signup.objects.get().status == Signup.Status.CONFIRMED

    # The unsubscribe link from the same email works, and again after that.
    unsubscribe = link_in(message, "/protocols/unsubscribe/")
    page.goto(unsubscribe)
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribe")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    assert Signup.objects.get().status == Signup.Status.UNSUBSCRIBED
    page.goto(unsubscribe)
    expect(page.get_by_role("status")).to_contain_text("already unsubscribed")


def test_a_bad_address_shows_the_error_next_to_the_field_and_focus_moves_to_it(page, seeded, deliver_emails):
    """The form comes back with the error beside the field, the field has the focus and is
    described by the error; nothing is stored or sent."""
    page.goto(seeded + "/protocols/sleep-protocol/")
    page.get_by_role("textbox", name="Your email address").fill("not-an-address")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_title(re.compile(r"^Error: "))
    field = page.get_by_role("textbox", name="Your email address")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description("Enter a valid email address, like name@example.com.")
    error = page.locator(".form-field--error .errorlist")
    expect(error).to_have_text("Enter a valid email address, like name@example.com.")
    # "Next to the field": the message sits directly above the box, in the same column.
    # (Both boxes measured in one go: the page may still be scrolling to the focused field.)
    gap, shift = page.evaluate(
        """() => {
            const error = document.querySelector(".form-field--error .errorlist").getBoundingClientRect();
            const field = document.activeElement.getBoundingClientRect();
            return [field.top - error.bottom, Math.abs(field.left - error.left)];
        }"""
    )
    assert 0 <= gap < 24 and shift < 4, (gap, shift)
    # The error summary links to the field.
    page.get_by_role("alert").get_by_role("link", name="Enter a valid email address").click()
    expect(field).to_be_focused()

    assert Signup.objects.count() == 0
    assert deliver_emails() == []
