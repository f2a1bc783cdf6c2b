"""Small helpers shared by the browser journeys."""

import io
import re
from base64 import b32decode

from django.contrib.auth.models import Group, User
from django.core.management import call_command
from playwright.sync_api import expect

from tests.helpers import totp_code, totp_device


def link_in(message, path_fragment):
    """The first link in an email's plain text whose path contains `path_fragment`."""
    match = re.search(rf"https?://\S*{re.escape(path_fragment)}\S*", message.body)
    assert match, f"no link with {path_fragment!r} in:\n{message.body}"
    return match.group(0)


def tab_to(page, locator, *, limit=40):
    """Press Tab until `locator` has the focus, like a keyboard user; fail after `limit` presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{locator} never received focus after {limit} Tab presses")


PASSWORD = "a-long-test-password-1"


def staff_user(username, group):
    """A staff user with the password PASSWORD in one of the roles `setup_roles` makes."""
    call_command("setup_roles", stdout=io.StringIO())
    user = User.objects.create_user(username, f"{username}@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def log_in(page, site, username):
    """The admin's sign-in: password, then the authenticator app's code. A user without a device
    sets one up first, typing the key shown on the page into the "app" (computed here)."""
    page.goto(site + "/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile("^(Set up two-factor sign-in|Two-factor sign-in)$"))
    if heading.inner_text() == "Set up two-factor sign-in":
        expect(page.locator("figure svg")).to_be_visible()  # the QR code, drawn by the server
        key = b32decode(page.locator("#totp-secret").inner_text().replace(" ", ""))
        page.get_by_label("Code from the app").fill(totp_code(key))
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
        expect(page.locator(".recovery-codes li")).to_have_count(10)
        page.get_by_role("link", name="I have saved them: continue").click()
    else:
        page.get_by_label("Code").fill(totp_code(totp_device(User.objects.get(username=username)).bin_key))
        page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
