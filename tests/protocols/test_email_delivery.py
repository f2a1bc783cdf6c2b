"""The whole flow over real SMTP: an aiosmtpd server on loopback receives what the worker sends."""

import email
import email.policy
import re
import socket

import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from protocols import services
from protocols.models import EmailDelivery, Signup, Step
from tests.helpers import make_scheduled_tasks_due, run_worker


class Inbox:
    """aiosmtpd handler keeping every received message."""

    def __init__(self):
        self.messages = []
        self.peers = []  # the client's (address, port): one per SMTP connection

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, parsed))
        self.peers.append(session.peer)
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_settings(settings):
    port = free_port()
    # pytest-django forces the in-memory backend: talk real SMTP for these tests.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.SITE_URL = "http://testserver"
    return port


def start_server(port):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox


def body_text(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def csrf_token(html):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def sign_up_through_the_form(client, protocol, address):
    page = client.get(protocol.get_absolute_url())
    assert page.status_code == 200
    # The signup form has no CSRF token; a browser on our page says so in these headers.
    response = client.post(
        protocol.get_absolute_url(),
        {"email": address, "consent": "on", "website": ""},
        HTTP_ORIGIN="http://testserver",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_signup_email_received_link_followed_confirmed(smtp_settings):
    """Sign up in the form, the worker delivers over SMTP, the emailed link confirms after one button press."""
    from protocols.seed import seed_protocols

    protocol = seed_protocols()
    controller, inbox = start_server(smtp_settings)
    try:
        client = Client(enforce_csrf_checks=True)
        sign_up_through_the_form(client, protocol, "Reader@Example.ORG")
        run_worker()
    finally:
        controller.stop()

    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["Reader@example.org"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].strip().startswith("<http://testserver/protocols/unsubscribe/")
    assert message.get_body(preferencelist=("html",)) is not None
    link = re.search(r"http://testserver(/protocols/confirm/\S+/)", body_text(message)).group(1)

    page = client.get(link)
    assert page.status_code == 200
    assert Signup.objects.get().status == Signup.Status.PENDING  # opening the link confirms nobody
    response = client.post(link, {"csrfmiddlewaretoken": csrf_token(page.content.decode())})
    assert response.status_code == 200
    assert b"You are confirmed" in response.content
    assert Signup.objects.get().status == Signup.Status.CONFIRMED


@pytest.mark.django_db(transaction=True)
def test_smtp_server_down_then_up_loses_nothing(smtp_settings):
    """With the SMTP server down the signups stay and failures are recorded; once it is back every email arrives."""
    from protocols.seed import seed_protocols

    protocol = seed_protocols()
    client = Client()
    addresses = [f"reader{i}@example.org" for i in range(3)]
    for address in addresses:
        response = client.post(protocol.get_absolute_url(), {"email": address, "consent": "on"})
        assert response.status_code == 302

    run_worker()  # nothing listens on the port: every attempt fails
    assert Signup.objects.count() == 3
    deliveries = EmailDelivery.objects.all()
    assert all(d.sent_at is None and d.attempts == 1 and d.last_error for d in deliveries)

    controller, inbox = start_server(smtp_settings)
    try:
        make_scheduled_tasks_due()  # as if the backoff delay had passed
        run_worker()
    finally:
        controller.stop()

    assert sorted(rcpt[0] for rcpt, _ in inbox.messages) == addresses
    assert EmailDelivery.objects.filter(sent_at__isnull=True).count() == 0
    assert all(d.attempts == 2 for d in EmailDelivery.objects.all())


@pytest.mark.django_db
def test_program_email_over_real_smtp_carries_its_headers_links_disclaimer_and_postal_address(
    smtp_settings, django_capture_on_commit_callbacks, settings
):
    """Step 1 arrives over SMTP right after confirming: text and HTML, RFC 8058 headers, List-Id, the
    subscriber's page, the disclaimer, the postal address and absolute site links."""
    from protocols import services
    from protocols.seed import seed_protocols

    settings.SITE_POSTAL_ADDRESS = "1 Example Street, Springfield"
    protocol = seed_protocols()
    step = protocol.steps.get(position=1)
    step.body += "\nRead [the article](/articles/magnesium-and-leg-cramps/).\n"
    step.save()
    controller, inbox = start_server(smtp_settings)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            signup = services.create_signup(protocol=protocol, email="reader@example.org")
        with django_capture_on_commit_callbacks(execute=True):
            services.confirm_signup(signup=signup)
        run_worker()
    finally:
        controller.stop()
    ((recipients, message),) = [m for m in inbox.messages if m[1]["Subject"] == step.subject]
    assert recipients == ["reader@example.org"]
    assert message["List-Id"] == "Sleep Protocol <sleep-protocol.testserver>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(message["List-Unsubscribe"]).strip().startswith("<http://testserver/protocols/unsubscribe/")
    text = body_text(message)
    html = message.get_body(preferencelist=("html",)).get_content()
    for part in (text, html):
        assert "http://testserver/protocols/manage/" in part
        assert "not medical advice" in part
        assert "1 Example Street, Springfield" in part
        assert "http://testserver/articles/magnesium-and-leg-cramps/" in part
    delivery = EmailDelivery.objects.get(kind="step")
    assert delivery.subject == step.subject
    assert "1 Example Street" in delivery.text_body and "1 Example Street" in delivery.html_body


@pytest.mark.django_db(transaction=True)
def test_a_batch_is_sent_over_one_smtp_connection(smtp_settings, make_protocol, make_signup):
    """send_batch keeps one SMTP connection open for the whole batch instead of reconnecting per email."""
    from django.utils import timezone

    protocol = make_protocol()
    step = Step.objects.create(protocol=protocol, position=1, subject="Day one", body="Hello.")
    now = timezone.now()
    ids = []
    for n in range(5):
        signup = make_signup(protocol, f"reader{n}@example.org", status="confirmed", program_started_at=now)
        delivery = EmailDelivery.objects.create(
            signup=signup, kind="step", step=step, step_position=1, to_email=signup.email, next_attempt_at=now
        )
        ids.append(delivery.pk)

    controller, inbox = start_server(smtp_settings)
    try:
        assert services.send_batch(ids) == {"sent": 5}
    finally:
        controller.stop()

    assert len(inbox.messages) == 5
    assert len(set(inbox.peers)) == 1
