"""Passkeys end to end in Chromium, with its virtual authenticator standing in for a phone or a
security key: a signed-in staff member adds one, then signs in with password and passkey."""

import re

import pytest
from django.contrib.auth.models import User
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from tests.browser.helpers import PASSWORD, log_in
from tests.helpers import totp_device

pytestmark = pytest.mark.browser


@pytest.fixture
def authenticator(page):
    """A platform authenticator with user verification (like Touch ID), answering by itself."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    yield cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]
    cdp.send("WebAuthn.disable")


@pytest.fixture
def passkey_site(live_server, transactional_db, settings):
    # Passkeys are bound to a host name (never an IP address) and the page's exact origin.
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    assert live_server.url.startswith("http://localhost:")
    return live_server.url


def test_staff_adds_a_passkey_then_signs_in_with_it(page, passkey_site, authenticator):
    """A staff member adds a passkey in the settings page, then signs in with it instead of a code."""
    user = User.objects.create_superuser("keyholder", "keyholder@example.org", PASSWORD)
    totp_device(user)
    log_in(page, passkey_site, "keyholder")

    page.get_by_role("link", name="Two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    page.locator("#passkey-register-button").click()
    # Two round trips and the authenticator's key generation: slow on a busy CI machine.
    expect(page.locator("#passkey-register-status-message")).to_have_text("Registration successful!", timeout=20_000)
    assert WebAuthnCredential.objects.filter(user=user, confirmed=True).count() == 1

    page.get_by_role("button", name="Log out").click()
    page.goto(passkey_site + "/admin/protocols/signup/")
    page.get_by_label("Username").fill("keyholder")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor sign-in")
    page.locator("#passkey-verification-button").click()
    expect(page).to_have_url(re.compile(r"/admin/protocols/signup/$"), timeout=15_000)
    expect(page.get_by_role("heading", level=1)).to_have_text("Select signup to change")
