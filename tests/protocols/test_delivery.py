"""The outbox and its task: sending, recording failures, retrying with backoff."""

import re
import smtplib

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from protocols import services
from protocols.models import EmailDelivery, Signup
from tests.helpers import make_scheduled_tasks_due, run_worker
from tests.protocols.factories import sign_up


class FailingBackend:
    """An email backend whose SMTP server refuses everything."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    def open(self):
        pass

    def close(self):
        pass


@pytest.mark.django_db
def test_worker_sends_the_confirmation_with_text_html_and_unsubscribe_headers(
    protocol, django_capture_on_commit_callbacks, settings
):
    """The queued task sends a plain-text and HTML email with confirm link and RFC 8058 headers."""
    settings.SITE_URL = "https://example.test"
    sign_up(protocol, "reader@example.org", django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 0  # nothing is sent inside the request
    assert run_worker() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["reader@example.org"]
    assert "Sleep Protocol" in message.subject
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    confirm = re.search(r"https://example\.test/protocols/confirm/[^/\s]+/", message.body).group(0)
    unsubscribe = re.search(r"https://example\.test/protocols/unsubscribe/[^/\s]+/", message.body).group(0)
    assert confirm in html and unsubscribe in html
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    delivery = EmailDelivery.objects.get()
    assert delivery.sent_at is not None and delivery.attempts == 1


@pytest.mark.django_db
def test_smtp_failure_keeps_the_signup_records_the_error_and_schedules_a_retry(
    protocol, django_capture_on_commit_callbacks, settings
):
    """A refused send leaves the signup, records attempts and error, and re-queues with a backoff delay."""
    settings.EMAIL_BACKEND = "tests.protocols.test_delivery.FailingBackend"
    sign_up(protocol, "reader@example.org", django_capture_on_commit_callbacks)
    before = timezone.now()
    run_worker()
    delivery = EmailDelivery.objects.get()
    assert Signup.objects.filter(status="pending").count() == 1
    assert delivery.sent_at is None
    assert delivery.attempts == 1
    assert "SMTPServerDisconnected" in delivery.last_error
    assert delivery.next_attempt_at >= before + services.retry_delay(1)
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.run_after == delivery.next_attempt_at
    assert run_worker() == 0  # not before its time

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_scheduled_tasks_due()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.sent_at is not None and delivery.attempts == 2
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_retries_stop_after_max_attempts_and_staff_can_retry(
    protocol, django_capture_on_commit_callbacks, settings, monkeypatch
):
    """After MAX_ATTEMPTS failures the delivery is marked gave-up (visible to staff); a manual retry sends it."""
    monkeypatch.setattr(services.delivery, "MAX_ATTEMPTS", 3)
    settings.EMAIL_BACKEND = "tests.protocols.test_delivery.FailingBackend"
    sign_up(protocol, "reader@example.org", django_capture_on_commit_callbacks)
    for _ in range(5):
        make_scheduled_tasks_due()
        run_worker()
    delivery = EmailDelivery.objects.get()
    assert delivery.attempts == 3
    assert delivery.gave_up_at is not None
    assert not DBTaskResult.objects.filter(status="READY").exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.retry_delivery_now(delivery=delivery)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.sent_at is not None
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_delivery_is_skipped_when_the_signup_is_no_longer_pending(protocol, django_capture_on_commit_callbacks):
    """A confirmation queued before the reader confirmed or unsubscribed is not sent."""
    result = sign_up(protocol, "reader@example.org", django_capture_on_commit_callbacks)
    services.unsubscribe(signup=result)
    run_worker()
    assert len(mail.outbox) == 0
    assert EmailDelivery.objects.get().skipped_reason == "signup unsubscribed"


@pytest.mark.django_db
def test_a_claimed_or_sent_delivery_is_not_sent_twice(protocol, django_capture_on_commit_callbacks):
    """Two tasks for one delivery (a staff retry racing the queue) send one email."""
    sign_up(protocol, "reader@example.org", django_capture_on_commit_callbacks)
    delivery = EmailDelivery.objects.get()
    services.enqueue_delivery(delivery.pk)
    run_worker()
    assert len(mail.outbox) == 1
    assert services.deliver_email(delivery_id=delivery.pk) == "busy"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_requeue_due_deliveries_recovers_a_lost_task(protocol, make_signup):
    """An outbox row whose task never got queued (a crash after commit) is picked up by the sweeper."""
    signup = make_signup(protocol)
    EmailDelivery.objects.create(
        signup=signup, to_email=signup.email, next_attempt_at=timezone.now() - timezone.timedelta(hours=1)
    )
    assert services.requeue_due_deliveries() == 1
    run_worker()
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_header_injection_attempt_through_the_form_sends_nothing(protocol):
    """A CR/LF address posted to the form is refused: no row, no task, no email."""
    response = Client().post(
        protocol.get_absolute_url(),
        {"email": "victim@example.org\r\nBcc: list@example.org", "consent": "on"},
    )
    assert response.status_code == 400
    run_worker()
    assert Signup.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
    assert len(mail.outbox) == 0


@pytest.mark.django_db
def test_every_email_has_a_working_unsubscribe_link(protocol, django_capture_on_commit_callbacks, settings):
    """The unsubscribe link in the email unsubscribes with one POST, no login, no CSRF token."""
    settings.SITE_URL = "http://testserver"
    sign_up(protocol, "reader@example.org", django_capture_on_commit_callbacks)
    run_worker()
    url = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    client = Client(enforce_csrf_checks=True)
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert Signup.objects.get().status == Signup.Status.UNSUBSCRIBED


@pytest.mark.django_db
def test_requeue_emails_command(protocol, make_signup):
    """`manage.py requeue_emails` queues overdue deliveries and says how many."""
    import io

    from django.core.management import call_command

    signup = make_signup(protocol)
    EmailDelivery.objects.create(
        signup=signup, to_email=signup.email, next_attempt_at=timezone.now() - timezone.timedelta(hours=1)
    )
    out = io.StringIO()
    call_command("requeue_emails", stdout=out)
    assert "Queued 1 overdue email(s)." in out.getvalue()
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_immediate_task_backend_also_works(settings):
    """With django-tasks' immediate backend (e.g. browser tests) the email is sent right after commit."""
    from protocols.seed import seed_protocols

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    protocol = seed_protocols()
    response = Client().post(protocol.get_absolute_url(), {"email": "now@example.org", "consent": "on"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert EmailDelivery.objects.get().sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_immediate_backend_failure_is_recorded_for_the_sweeper(settings):
    """The immediate backend cannot defer a retry: the failure is recorded and requeue_emails resends it later."""
    from protocols.seed import seed_protocols

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "tests.protocols.test_delivery.FailingBackend"
    protocol = seed_protocols()
    assert (
        Client().post(protocol.get_absolute_url(), {"email": "later@example.org", "consent": "on"}).status_code == 302
    )
    delivery = EmailDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.sent_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.requeue_due_deliveries() == 0  # not due yet: the backoff stands
    # Later: the retry is overdue (nothing can defer it on this backend), the sweeper sends it.
    EmailDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timezone.timedelta(hours=1))
    assert services.requeue_due_deliveries() == 1
    delivery.refresh_from_db()
    assert delivery.sent_at is not None
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_requeue_emails_every_keeps_running(protocol, make_signup, monkeypatch):
    """`requeue_emails --every N` (the Procfile's scheduler) checks again every N seconds."""
    import io

    from django.core.management import call_command

    from protocols.management import repeat

    naps = []

    def nap(seconds):
        naps.append(seconds)
        if len(naps) == 1:  # a delivery whose task was lost turns up between two checks
            signup = make_signup(protocol)
            EmailDelivery.objects.create(
                signup=signup, to_email=signup.email, next_attempt_at=timezone.now() - timezone.timedelta(hours=1)
            )
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr(repeat.time, "sleep", nap)
    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        call_command("requeue_emails", every=300, stdout=out)
    assert naps == [300, 300]
    assert out.getvalue().splitlines() == ["Queued 0 overdue email(s).", "Queued 1 overdue email(s)."]
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_failure_to_queue_loses_no_signup(monkeypatch, caplog):
    """If handing the email to the queue fails after commit, the reader still gets the
    answer, the signup and its delivery are kept, and requeue_emails sends it later."""
    from protocols import services
    from protocols.seed import seed_protocols

    protocol = seed_protocols()

    def queue_down(delivery_id, **kwargs):
        raise RuntimeError("queue unavailable")

    monkeypatch.setattr(services.signups, "enqueue_delivery", queue_down)
    response = Client().post(protocol.get_absolute_url(), {"email": "kept@example.org", "consent": "on"})
    assert response.status_code == 302
    delivery = EmailDelivery.objects.get(to_email="kept@example.org")
    assert delivery.sent_at is None and DBTaskResult.objects.count() == 0
    assert any("queue unavailable" in str(record.exc_info[1]) for record in caplog.records if record.exc_info)
    monkeypatch.undo()
    later = delivery.next_attempt_at + timezone.timedelta(hours=1)
    assert services.requeue_due_deliveries(now=later) == 1
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db
def test_requeue_emails_every_survives_a_database_error(monkeypatch, caplog):
    """The scheduler logs a database failure and carries on at the next check."""
    import io

    from django.core.management import call_command
    from django.db import OperationalError

    from protocols.management import repeat
    from protocols.management.commands import requeue_emails

    outcomes = iter([OperationalError("server closed the connection"), 0])

    def requeue():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    naps = []

    def nap(seconds):
        naps.append(seconds)
        if len(naps) > 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(requeue_emails, "requeue_due_deliveries", requeue)
    monkeypatch.setattr(repeat.time, "sleep", nap)
    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        call_command("requeue_emails", every=60, stdout=out)
    assert out.getvalue().splitlines() == ["Queued 0 overdue email(s)."]
    assert any("the database failed" in record.getMessage() for record in caplog.records)


@pytest.mark.django_db
def test_a_task_queued_twice_never_spends_a_retry_early(protocol, django_capture_on_commit_callbacks, settings):
    """requeue_emails may queue a delivery again while its worker is down; when the worker
    returns, the extra tasks find it not due and leave the backoff as it was."""
    settings.EMAIL_BACKEND = "tests.protocols.test_delivery.FailingBackend"
    sign_up(protocol, "patient@example.org", django_capture_on_commit_callbacks)
    delivery = EmailDelivery.objects.get()
    for _ in range(5):  # five scheduler runs while no worker runs
        services.enqueue_delivery(delivery.pk)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now()
