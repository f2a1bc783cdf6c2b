import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from protocols.models import EmailDelivery, Protocol, Signup
from protocols.tokens import make_confirm_token, make_unsubscribe_token


def post_signup(client, protocol, **data):
    payload = {"email": "reader@example.org", "consent": "on", "website": ""}
    payload.update(data)
    return client.post(protocol.get_absolute_url(), payload)


# --- Pages --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_shows_open_and_upcoming_and_closed_separately(make_protocol):
    """/protocols/ lists open and upcoming protocols, and closed ones in their own section."""
    make_protocol(name="Open One")
    make_protocol(name="Coming One", status=Protocol.Status.UPCOMING)
    make_protocol(name="Closed One", status=Protocol.Status.CLOSED)
    html = Client().get(reverse("protocols:list")).content.decode()
    main, closed = html.split('id="closed-heading"')
    assert "Open One" in main and "Coming One" in main and "Closed One" not in main
    assert "Closed One" in closed


@pytest.mark.django_db
def test_detail_shows_description_and_form_and_is_public(protocol):
    """The protocol page renders its description and form; with no CSRF token in the form
    it is the same for every reader, so caches in front may keep it and no cookie is set."""
    response = Client().get(protocol.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Sleep Protocol</h1>" in html
    assert "delivered by email" in html
    assert "csrfmiddlewaretoken" not in html
    assert 'type="email"' in html and 'name="consent"' in html
    assert protocol.consent_text in html
    assert response["Cache-Control"] == "public, max-age=60, s-maxage=60"
    assert not response.cookies


@pytest.mark.django_db
def test_unknown_protocol_is_404():
    """A protocol slug that does not exist is a 404."""
    assert Client().get("/protocols/no-such-thing/").status_code == 404


@pytest.mark.django_db
def test_honeypot_is_hidden_from_people(protocol):
    """The honeypot field sits in a container hidden from sight and from assistive technology."""
    html = Client().get(protocol.get_absolute_url()).content.decode()
    assert re.search(r'<div class="signup-hp" aria-hidden="true">\s*<label for="id_website">', html)
    assert 'name="website" tabindex="-1"' in html


# --- Signup posts ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_valid_post_redirects_to_thanks_and_stores_pending(protocol, django_capture_on_commit_callbacks):
    """A valid signup stores a pending row, queues one email and redirects to "check your inbox"."""
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signup(Client(), protocol, email="  Reader@Example.ORG ")
    assert response.status_code == 302
    assert response["Location"] == reverse("protocols:thanks", kwargs={"slug": protocol.slug})
    signup = Signup.objects.get()
    assert (signup.email, signup.status) == ("Reader@example.org", "pending")
    assert DBTaskResult.objects.count() == 1
    thanks = Client().get(response["Location"])
    assert b"Check your inbox" in thanks.content


@pytest.mark.django_db
@pytest.mark.parametrize("status", [None, "pending", "confirmed", "unsubscribed"])
def test_answer_is_identical_whatever_the_address_state(protocol, make_signup, status):
    """New, pending, confirmed and unsubscribed addresses get exactly the same response: no enumeration."""
    if status:
        make_signup(protocol, "known@example.org", status=status)
    response = post_signup(Client(), protocol, email="known@example.org")
    assert response.status_code == 302
    assert response["Location"] == reverse("protocols:thanks", kwargs={"slug": protocol.slug})
    assert response.content == b""
    assert Signup.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"email": ""}, "Enter your email address"),
        ({"email": "a" * 250 + "@example.org"}, "at most 254 characters"),
        ({"email": "victim@example.org\r\nBcc: all@example.org"}, "without line breaks"),
        ({"email": "victim@example.org%0d%0aBcc: all@example.org"}, "Enter a valid email address"),
        ({"email": "a@example.org, b@example.org"}, "Enter a valid email address"),
        ({"consent": ""}, "Tick the box to agree"),
        ({"website": "http://spam.example"}, "could not be sent"),
    ],
)
def test_invalid_input_shows_errors_stores_and_sends_nothing(
    protocol, data, message, django_capture_on_commit_callbacks
):
    """Bad, over-long or header-injecting address, no consent, honeypot filled: form back, nothing stored or sent."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_signup(Client(), protocol, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Signup.objects.count() == 0
    assert EmailDelivery.objects.count() == 0
    assert callbacks == []
    assert mail.outbox == []


@pytest.mark.django_db
def test_errors_are_accessible(protocol):
    """Errors sit by their fields (aria-describedby, aria-invalid), in a focusable summary; focus goes to the field."""
    html = post_signup(Client(), protocol, email="nope", consent="").content.decode()
    assert re.search(r'<div class="error-summary" id="error-summary" role="alert" tabindex="-1"', html)
    assert '<a href="#id_email">' in html
    email_input = re.search(r"<input type=\"email\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in email_input
    assert 'aria-describedby="id_email-error"' in email_input
    assert "autofocus" in email_input
    assert 'id="id_email-error"' in html
    consent_input = re.search(r"<input type=\"checkbox\"[^>]*>", html).group(0)
    assert 'aria-describedby="id_consent-error"' in consent_input and "autofocus" not in consent_input
    assert '<label for="id_email">' in html and '<label for="id_consent">' in html
    assert "<title>Error: " in html


@pytest.mark.django_db
def test_posted_text_is_escaped(protocol):
    """Whatever was typed comes back escaped in the form."""
    html = post_signup(Client(), protocol, email='"><script>alert(1)</script>').content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.django_db
def test_closed_protocol_shows_a_message_no_form_and_refuses_posts(make_protocol):
    """A closed protocol explains it is closed, shows no form, and a post stores nothing."""
    closed = make_protocol(status=Protocol.Status.CLOSED)
    html = Client().get(closed.get_absolute_url()).content.decode()
    assert "Signups are closed" in html
    assert '<form class="signup-form"' not in html
    response = post_signup(Client(), closed)
    assert response.status_code == 409
    assert Signup.objects.count() == 0


@pytest.mark.django_db
def test_upcoming_protocol_offers_the_waitlist(make_protocol):
    """An upcoming protocol's form says "tell me when it opens" and stores a waitlist signup."""
    upcoming = make_protocol(status=Protocol.Status.UPCOMING)
    html = Client().get(upcoming.get_absolute_url()).content.decode()
    assert "Tell me when it opens" in html and "Join the waitlist" in html
    assert post_signup(Client(), upcoming).status_code == 302
    assert Signup.objects.get().protocol == upcoming


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"HTTP_SEC_FETCH_SITE": "cross-site"}, id="sec-fetch-site cross-site"),
        pytest.param({"HTTP_SEC_FETCH_SITE": "same-site"}, id="sec-fetch-site same-site"),
        pytest.param({"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "http://testserver"}, id="forged origin"),
        pytest.param({"HTTP_ORIGIN": "https://evil.example"}, id="origin only"),
        pytest.param({"HTTP_ORIGIN": "null"}, id="opaque origin"),
        pytest.param({"HTTP_ORIGIN": "https://testserver"}, id="other scheme"),
    ],
)
def test_signup_posted_from_another_site_is_refused_with_a_clear_page(protocol, headers):
    """The form has no CSRF token: a browser's cross-origin post gets a 403 page that says
    why, and nothing is stored or sent."""
    response = Client(enforce_csrf_checks=True).post(
        protocol.get_absolute_url(), {"email": "reader@example.org", "consent": "on", "website": ""}, **headers
    )
    assert response.status_code == 403
    assert "This form was sent from another site" in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert Signup.objects.count() == 0
    assert not mail.outbox


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "http://testserver"}, id="browser"),
        pytest.param({"HTTP_ORIGIN": "http://testserver"}, id="origin only"),
        pytest.param({}, id="no browser headers"),
    ],
)
def test_signup_posted_from_our_own_page_needs_no_csrf_token(protocol, headers, django_capture_on_commit_callbacks):
    """Even with Django's CSRF checks enforced, a same-origin post signs up (honeypot, rate
    limit and double opt-in still apply)."""
    with django_capture_on_commit_callbacks(execute=True):
        response = Client(enforce_csrf_checks=True).post(
            protocol.get_absolute_url(), {"email": "reader@example.org", "consent": "on", "website": ""}, **headers
        )
    assert response.status_code == 302
    assert Signup.objects.get().status == Signup.Status.PENDING


@pytest.mark.django_db
def test_a_trusted_origin_may_post_the_signup_form(protocol, settings):
    """An origin listed in CSRF_TRUSTED_ORIGINS (e.g. the site's other host name) is accepted."""
    settings.CSRF_TRUSTED_ORIGINS = ["https://www.example.org"]
    response = Client().post(
        protocol.get_absolute_url(),
        {"email": "reader@example.org", "consent": "on", "website": ""},
        HTTP_ORIGIN="https://www.example.org",
        HTTP_SEC_FETCH_SITE="cross-site",
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_other_forms_keep_djangos_csrf_check(protocol, make_signup):
    """Only the signup form is exempt: the confirm button still needs its CSRF token."""
    signup = make_signup(protocol)
    response = Client(enforce_csrf_checks=True).post(reverse("protocols:confirm", args=[make_confirm_token(signup)]))
    assert response.status_code == 403
    assert Signup.objects.get().status == Signup.Status.PENDING


# --- Confirmation links -----------------------------------------------------------------------


@pytest.mark.django_db
def test_opening_the_confirm_link_confirms_nobody(protocol, make_signup):
    """GET (what mail scanners do) shows a button; the signup stays pending."""
    signup = make_signup(protocol)
    response = Client().get(reverse("protocols:confirm", args=[make_confirm_token(signup)]))
    assert response.status_code == 200
    assert b"Confirm my signup" in response.content
    assert b'method="post"' in response.content
    signup.refresh_from_db()
    assert signup.status == Signup.Status.PENDING
    assert "no-store" in response["Cache-Control"] or "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_pressing_confirm_confirms_and_twice_is_harmless(protocol, make_signup):
    """The POST confirms; a second POST or a later GET just says it is confirmed."""
    signup = make_signup(protocol)
    url = reverse("protocols:confirm", args=[make_confirm_token(signup)])
    client = Client()
    assert b"You are confirmed" in client.post(url).content
    signup.refresh_from_db()
    first = signup.confirmed_at
    assert signup.status == Signup.Status.CONFIRMED
    assert b"You are confirmed" in client.post(url).content
    assert b"You are confirmed" in client.get(url).content
    signup.refresh_from_db()
    assert signup.confirmed_at == first


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["garbage", "eyJzIjoxfQ:1xW:tampered", "a" * 300])
def test_tampered_link_gets_a_friendly_page(protocol, make_signup, token):
    """A broken or forged link explains itself and offers the way to a new email; nothing changes."""
    make_signup(protocol)
    response = Client().get(reverse("protocols:confirm", args=[token]))
    assert response.status_code == 400
    assert b"This link no longer works" in response.content
    assert protocol.get_absolute_url().encode() in response.content
    assert Client().post(reverse("protocols:confirm", args=[token])).status_code == 400
    assert Signup.objects.get().status == Signup.Status.PENDING


@pytest.mark.django_db
def test_token_for_another_address_is_refused(protocol, make_signup):
    """A genuine token whose address no longer matches the row confirms nothing."""
    signup = make_signup(protocol)
    token = signing.dumps({"s": signup.pk, "e": "someone-else@example.org"}, salt="protocols.confirm", compress=True)
    assert Client().post(reverse("protocols:confirm", args=[token])).status_code == 400
    signup.refresh_from_db()
    assert signup.status == Signup.Status.PENDING


@pytest.mark.django_db
def test_expired_link_offers_a_new_email(protocol, make_signup, django_capture_on_commit_callbacks):
    """An expired link gets a friendly page with a button that emails a fresh link."""
    signup = make_signup(protocol, confirmation_sent_at=timezone.now() - timedelta(days=8))
    with mock.patch("django.core.signing.time.time", return_value=timezone.now().timestamp() - 8 * 86400):
        token = make_confirm_token(signup)
    url = reverse("protocols:confirm", args=[token])
    response = Client().get(url)
    assert response.status_code == 410
    assert b"has expired" in response.content and b"Email me a new link" in response.content
    assert Client().post(url).status_code == 410
    signup.refresh_from_db()
    assert signup.status == Signup.Status.PENDING

    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(reverse("protocols:resend", args=[token]))
    assert response.status_code == 302
    assert EmailDelivery.objects.filter(signup=signup).count() == 1


@pytest.mark.django_db
def test_confirm_link_after_unsubscribing_does_not_resubscribe(protocol, make_signup):
    """An old confirmation link cannot undo an unsubscribe."""
    signup = make_signup(protocol, status=Signup.Status.UNSUBSCRIBED)
    response = Client().post(reverse("protocols:confirm", args=[make_confirm_token(signup)]))
    assert response.status_code == 400
    signup.refresh_from_db()
    assert signup.status == Signup.Status.UNSUBSCRIBED


# --- Unsubscribe --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_unsubscribe_get_shows_a_button_and_changes_nothing(protocol, make_signup):
    """Opening the unsubscribe link asks for one press; a prefetch unsubscribes nobody."""
    signup = make_signup(protocol, status=Signup.Status.CONFIRMED)
    response = Client().get(reverse("protocols:unsubscribe", args=[make_unsubscribe_token(signup)]))
    assert response.status_code == 200
    assert b">Unsubscribe</button>" in response.content
    signup.refresh_from_db()
    assert signup.status == Signup.Status.CONFIRMED


@pytest.mark.django_db
def test_one_click_unsubscribe_post_needs_no_csrf_or_login_and_repeats(protocol, make_signup):
    """RFC 8058: a POST of List-Unsubscribe=One-Click unsubscribes without cookies; repeating is fine."""
    signup = make_signup(protocol, status=Signup.Status.CONFIRMED)
    url = reverse("protocols:unsubscribe", args=[make_unsubscribe_token(signup)])
    client = Client(enforce_csrf_checks=True)
    for _ in range(2):
        response = client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200
        assert b"You are unsubscribed" in response.content
    signup.refresh_from_db()
    assert signup.status == Signup.Status.UNSUBSCRIBED


@pytest.mark.django_db
def test_unsubscribe_with_a_forged_token_changes_nothing(protocol, make_signup):
    """A tampered unsubscribe link gets the friendly page and unsubscribes nobody."""
    signup = make_signup(protocol, status=Signup.Status.CONFIRMED)
    token = make_unsubscribe_token(signup)[:-2] + "xx"
    response = Client().post(reverse("protocols:unsubscribe", args=[token]))
    assert response.status_code == 400
    signup.refresh_from_db()
    assert signup.status == Signup.Status.CONFIRMED


@pytest.mark.django_db
def test_confirm_token_cannot_unsubscribe(protocol, make_signup):
    """Tokens are salted per purpose: a confirm token is no unsubscribe token."""
    signup = make_signup(protocol, status=Signup.Status.CONFIRMED)
    response = Client().post(reverse("protocols:unsubscribe", args=[make_confirm_token(signup)]))
    assert response.status_code == 400


@pytest.mark.django_db
def test_sitemap_lists_protocol_pages(protocol):
    """The sitemap includes each protocol's page."""
    response = Client().get("/sitemap.xml")
    assert protocol.get_absolute_url().encode() in response.content


@pytest.mark.django_db
def test_a_signup_post_costs_a_handful_of_queries(
    protocol, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """A new signup is one lookup, two inserts and the queued task (plus the protocol): no extra round trips."""
    Client().get("/protocols/")  # warm the banner cache
    with django_assert_max_num_queries(7), django_capture_on_commit_callbacks(execute=True):
        assert post_signup(Client(), protocol).status_code == 302


@pytest.mark.django_db
def test_links_do_not_carry_the_address_in_clear(protocol, make_signup):
    """Tokens bind to the address by a digest, so URLs (and access logs) do not reveal it."""
    signup = make_signup(protocol, "private.person@example.org")
    for token, salt in (
        (make_confirm_token(signup), "protocols.confirm"),
        (make_unsubscribe_token(signup), "protocols.unsubscribe"),
    ):
        payload = signing.loads(token, salt=salt)
        assert "private.person" not in str(payload)
        assert payload["s"] == signup.pk
