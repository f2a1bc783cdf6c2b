"""Staff two-factor sign-in through the real admin login: password, then an authenticator app
code, a recovery code or a passkey; first-time setup; resets; the development switch."""

import re
from base64 import b32decode
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from site_config.two_factor.views import WRONG_CODE
from tests.articles.factories import make_article, make_editor
from tests.helpers import log_in_staff, totp_code, totp_device
from tests.site_config.helpers import ROOT, assert_security_headers, run_probe

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password-1"
LOGIN = "/admin/login/?next=/admin/protocols/signup/"
SIGNUPS = "/admin/protocols/signup/"


@pytest.fixture
def staff():
    return get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)


def sign_in_with_password(client, username="boss", password=PASSWORD):
    """The admin's own login form; returns the page it leads to."""
    response = client.post(LOGIN, {"username": username, "password": password}, follow=True)
    assert response.status_code == 200
    return response


def error_text(response):
    match = re.search(r'<p class="errornote" id="code-error">(.*?)</p>', response.content.decode())
    return match and match.group(1)


def test_password_then_app_code_opens_the_admin(client, staff):
    """The password leads to the code page (keeping where the user was going); the app's code opens it."""
    key = totp_device(staff).bin_key
    page = sign_in_with_password(client)
    assert page.redirect_chain[-1][0] == "/admin/two-factor/?next=%2Fadmin%2Fprotocols%2Fsignup%2F"
    assert "Enter the 6-digit code" in page.content.decode()
    assert_security_headers(page)
    response = client.post(page.redirect_chain[-1][0], {"code": totp_code(key), "next": SIGNUPS})
    assert response.status_code == 302 and response["Location"] == SIGNUPS
    assert client.get(SIGNUPS).status_code == 200
    assert client.get("/admin/").status_code == 200


def test_a_password_alone_opens_no_admin_page_and_no_draft(client, staff):
    """Between the two steps every admin page sends to the code page, and public pages treat the
    session as anonymous (no draft previews)."""
    totp_device(staff)
    sign_in_with_password(client)
    assert "_auth_user_id" in client.session
    for url in ("/admin/", SIGNUPS, "/admin/auth/user/", "/admin/protocols/signup/export/", "/admin/nope/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/two-factor/?next="), url
    assert client.post(SIGNUPS, {"action": "delete_selected"}).status_code == 302
    draft = make_article(published=False, title="Unpublished piece")
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get("/admin/two-factor/settings/")["Location"].startswith("/admin/two-factor/?next=")


def test_a_wrong_code_is_refused_with_a_clear_message(client, staff):
    """A wrong or malformed code is refused with a clear, linked error and the admin stays closed."""
    totp_device(staff)
    sign_in_with_password(client)
    response = client.post("/admin/two-factor/", {"code": "000000"})
    assert response.status_code == 200
    assert error_text(response) == WRONG_CODE
    assert 'aria-invalid="true"' in response.content.decode()
    assert client.get("/admin/")["Location"].startswith("/admin/two-factor/")
    response = client.post("/admin/two-factor/", {"code": "not a code"})
    assert "not right" in error_text(response)


def test_codes_are_throttled_after_a_failure(client, staff, settings):
    """django-otp's throttle: right after a wrong code even the right one waits (1 s, 2 s, 4 s, ...)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a slow machine does not outwait it between two posts
    key = totp_device(staff).bin_key
    sign_in_with_password(client)
    client.post("/admin/two-factor/", {"code": "000000"})
    response = client.post("/admin/two-factor/", {"code": totp_code(key)})
    assert re.fullmatch(
        r"Too many wrong codes in a row: wait \d+ seconds?, then enter a fresh code\.", error_text(response)
    )
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the wait is over
    assert client.post("/admin/two-factor/", {"code": totp_code(key)}).status_code == 302


def test_an_app_code_works_once(client, staff):
    """A code seen by someone over the user's shoulder cannot be replayed in another session."""
    key = totp_device(staff).bin_key
    code = totp_code(key)
    sign_in_with_password(client)
    assert client.post("/admin/two-factor/", {"code": code}).status_code == 302
    other = Client()
    sign_in_with_password(other)
    assert error_text(other.post("/admin/two-factor/", {"code": code})) == WRONG_CODE


def test_first_sign_in_sets_up_an_app_from_a_server_drawn_qr_code(client, staff):
    """No device yet: a QR code drawn as inline SVG plus the key in text; confirming with the app's
    code gives ten recovery codes and opens the admin."""
    page = sign_in_with_password(client)
    assert page.redirect_chain[-1][0].startswith("/admin/two-factor/setup/")
    html = page.content.decode()
    assert re.search(r"<svg[^>]*>.*<path[^>]* d=\"M", html, re.S), "no inline SVG QR code"
    assert "http" not in re.search(r"<svg.*?</svg>", html, re.S).group(0).replace("http://www.w3.org", "")
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', html).group(1)
    key = b32decode(secret.replace(" ", ""))
    assert TOTPDevice.objects.get(user=staff, confirmed=False).bin_key == key
    assert client.get("/admin/")["Location"].startswith("/admin/two-factor/")  # still nothing opens

    wrong = client.post("/admin/two-factor/setup/", {"code": "123456", "next": SIGNUPS})
    assert "not right" in error_text(wrong)
    TOTPDevice.objects.filter(user=staff).update(throttling_failure_count=0)  # the 1 s wait, passed

    done = client.post("/admin/two-factor/setup/", {"code": totp_code(key), "next": SIGNUPS})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert f'href="{SIGNUPS}"' in done.content.decode()
    assert "no-cache" in done["Cache-Control"] or "no-store" in done["Cache-Control"]
    assert TOTPDevice.objects.get(user=staff).confirmed
    assert client.get(SIGNUPS).status_code == 200
    # Set up once: the setup page does not hand out a second key.
    assert client.get("/admin/two-factor/setup/")["Location"] == "/admin/two-factor/settings/"


def test_a_recovery_code_works_once(client, staff):
    """A recovery code (any case, spaces allowed) signs in once and is then used up."""
    totp_device(staff)
    codes = Client()
    log_in_staff(codes, staff)
    page = codes.post("/admin/two-factor/settings/", {"new_recovery_codes": "1"}).content.decode()
    code = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)[3]

    sign_in_with_password(client)
    assert client.post("/admin/two-factor/", {"code": code.upper()[:4] + " " + code.upper()[4:]}).status_code == 302
    assert client.get(SIGNUPS).status_code == 200
    assert StaticDevice.objects.get(user=staff).token_set.count() == 9

    again = Client()
    sign_in_with_password(again)
    assert error_text(again.post("/admin/two-factor/", {"code": code})) == WRONG_CODE
    assert again.get(SIGNUPS).status_code == 302


def test_wrong_codes_count_toward_the_axes_lockout(settings, staff):
    """django-axes still locks the account: wrong codes count like wrong passwords, the session
    ends, and the password is refused from that address for the lockout period."""
    settings.AXES_ENABLED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # count axes' failures alone here
    key = totp_device(staff).bin_key
    client = Client(REMOTE_ADDR="203.0.113.9")
    sign_in_with_password(client)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert error_text(client.post("/admin/two-factor/", {"code": "000000"})) == WRONG_CODE
    locked = client.post("/admin/two-factor/", {"code": "000000"})
    assert locked.status_code == 429
    assert "Account temporarily locked" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    response = client.post(LOGIN, {"username": "boss", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # The right code cannot rescue a locked session either.
    assert client.post("/admin/two-factor/", {"code": totp_code(key)})["Location"].startswith("/admin/login/")
    assert client.get(SIGNUPS)["Location"].startswith("/admin/login/")


def test_password_lockout_still_applies_before_any_code(settings, staff):
    """After too many wrong passwords the right one is refused too, before any code is asked."""
    settings.AXES_ENABLED = True
    totp_device(staff)
    client = Client(REMOTE_ADDR="203.0.113.10")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "boss", "password": "wrong"})
    assert client.post(LOGIN, {"username": "boss", "password": PASSWORD}).status_code == 429
    assert client.get("/admin/two-factor/")["Location"].startswith("/admin/login/")


def test_the_next_address_stays_on_this_site(client, staff):
    """After the code, a `next` address on another site is replaced by the admin's home."""
    key = totp_device(staff).bin_key
    sign_in_with_password(client)
    response = client.post("/admin/two-factor/", {"code": totp_code(key), "next": "https://evil.example/admin/"})
    assert response["Location"] == "/admin/"


def test_a_superuser_resets_a_lost_device_and_the_user_sets_up_a_new_one(staff):
    """The reset action deletes the app, the recovery codes and passkeys; even a session that had
    passed with them must pass again, and the next sign-in offers setup."""
    editor = make_editor()
    editor.set_password(PASSWORD)
    editor.save()
    totp_device(editor)
    editor_session = log_in_staff(Client(), editor)
    assert editor_session.get("/admin/").status_code == 200

    admin_client = log_in_staff(Client(), staff)
    changelist = admin_client.get("/admin/auth/user/").content.decode()
    assert "Reset two-factor sign-in" in changelist
    response = admin_client.post(
        "/admin/auth/user/", {"action": "reset_two_factor", "_selected_action": [editor.pk]}, follow=True
    )
    assert "Two-factor sign-in reset for 1 user(s)" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=editor).exists()
    assert not StaticDevice.objects.filter(user=editor).exists()
    assert editor_session.get("/admin/")["Location"].startswith("/admin/two-factor/")

    page = sign_in_with_password(Client(), "editor")
    assert page.redirect_chain[-1][0].startswith("/admin/two-factor/setup/")


def test_only_a_superuser_may_reset_devices(staff):
    """Staff allowed to change users still cannot reset a second factor (that would hand over accounts)."""
    from django.contrib.auth.models import Permission

    clerk = get_user_model().objects.create_user("clerk", password=PASSWORD, is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    totp_device(staff)
    client = log_in_staff(Client(), clerk)
    assert "Reset two-factor sign-in" not in client.get("/admin/auth/user/").content.decode()
    response = client.post("/admin/auth/user/", {"action": "reset_two_factor", "_selected_action": [staff.pk]})
    assert response.status_code in (200, 302)
    assert TOTPDevice.objects.filter(user=staff).exists()


def assert_translations_load_before(html, module):
    """The passkey button's click handler calls gettext(): the translation catalogue must be a
    blocking script before the module, or a quick click finds no gettext and does nothing."""
    tags = re.findall(r"<script\b[^>]*>", html)
    catalogue = next(i for i, tag in enumerate(tags) if "/jsi18n/" in tag)
    button_script = next(i for i, tag in enumerate(tags) if module in tag)
    assert catalogue < button_script
    assert not re.search(r"\b(async|defer)\b", tags[catalogue]), tags[catalogue]


def test_passkeys_are_offered_and_cannot_be_added_on_a_password_alone(client, staff):
    """A staff member with a passkey sees the passkey button (scripts from this site only); the
    passkey endpoints refuse passwordless sign-in and adding a passkey before the second factor."""
    totp_device(staff)
    WebAuthnCredential.objects.create(
        user=staff, name="Laptop", credential_id=b"cred", public_key=b"key", sign_count=0, confirmed=True
    )
    assert Client().post("/admin/webauthn/authentication/begin/").status_code == 403  # no passwordless login
    page = sign_in_with_password(client)
    html = page.content.decode()
    assert 'id="passkey-verification-button"' in html
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert any("otp_webauthn_auth" in src for src in scripts)
    assert all(not urlsplit(src).netloc for src in scripts)
    assert_translations_load_before(html, "otp_webauthn_auth")
    begin = client.post("/admin/webauthn/authentication/begin/", content_type="application/json")
    assert begin.status_code == 200 and begin.json()["allowCredentials"]
    refused = client.post("/admin/webauthn/registration/begin/", content_type="application/json")
    assert refused.status_code == 403
    assert "verify your identity first" in refused.json()["detail"]


def test_the_settings_page_lists_passkeys_and_offers_to_add_one(staff):
    """The two-factor settings page offers to add a passkey, and registration starts for this site."""
    client = log_in_staff(Client(), staff)
    page = client.get("/admin/two-factor/settings/").content.decode()
    assert 'id="passkey-register-button"' in page
    assert_translations_load_before(page, "otp_webauthn_register")
    begin = client.post("/admin/webauthn/registration/begin/", content_type="application/json")
    assert begin.status_code == 200
    assert begin.json()["rp"]["id"] == "localhost"


def test_the_development_switch_turns_the_second_factor_off(client, staff, settings):
    """ADMIN_REQUIRE_2FA=0 (development): the password alone opens the admin."""
    settings.ADMIN_REQUIRE_2FA = False
    page = sign_in_with_password(client)
    assert page.redirect_chain[-1][0] == SIGNUPS


def test_production_refuses_to_start_with_the_second_factor_off(tmp_path):
    """ADMIN_REQUIRE_2FA=0 with DEBUG off stops the site with one clear line; with DEBUG on it is honoured."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "ADMIN_"))}
    env.update(DJANGO_SETTINGS_MODULE="site_config.settings", DJANGO_SECRET_KEY="x" * 50,
               DJANGO_VAR_DIR=str(tmp_path), ADMIN_REQUIRE_2FA="0")  # fmt: skip
    code = "import django; django.setup()"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Refusing to start: ADMIN_REQUIRE_2FA=0 is only allowed with DJANGO_DEBUG=1 (development)."
    )
    probe = (
        "import json, django; django.setup(); from django.conf import settings;"
        " print(json.dumps(settings.ADMIN_REQUIRE_2FA))"
    )
    assert run_probe(probe, tmp_path, DJANGO_DEBUG="1", ADMIN_REQUIRE_2FA="0") is False
    assert run_probe(probe, tmp_path) is True


def test_device_admins_list_devices_without_showing_their_keys(staff):
    """Superusers can delete a staff member's app or passkey, but never read a TOTP key there."""
    device = totp_device(staff)
    WebAuthnCredential.objects.create(user=staff, name="Laptop", credential_id=b"c", public_key=b"k", sign_count=0)
    client = log_in_staff(Client(), staff)
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert page and device.key not in page and "qrcode" not in page
    assert "Laptop" in client.get("/admin/django_otp_webauthn/webauthncredential/").content.decode()
