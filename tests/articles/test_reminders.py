"""Review reminders over real SMTP on loopback: one digest per reviewer, at most once a week,
to the right reviewer, sent by the real worker from the outbox; retried when SMTP is down."""

import email
import email.policy
import socket
from datetime import date, timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from articles.models import ReviewReminder
from tests.articles.factories import make_article, make_review, make_reviewer
from tests.helpers import run_worker


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, parsed))
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings):
    port = free_port()
    # pytest-django forces the in-memory backend: talk real SMTP here.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.SITE_URL = "http://testserver"
    settings.REVIEW_INTERVAL_MONTHS = 12
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox
    controller.stop()


def remind_and_deliver():
    call_command("send_review_reminders", stdout=None)
    run_worker()


def body(message):
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.django_db(transaction=True)
def test_one_digest_a_week_to_the_right_reviewer(smtp):
    """Run daily: Sam gets one digest on day 0 and the next on day 7, listing his overdue and soon-due
    articles only; a reviewer with nothing due and one without an email get nothing."""
    start = timezone.now()
    with time_machine.travel(start, tick=True):
        today = timezone.localdate()
        sam = make_reviewer(name="Dr. Sam Lee", email="sam@example.org")
        kim = make_reviewer(name="Dr. Kim Park", email="kim@example.org")
        noemail = make_reviewer(name="Dr. No Mail", email="")
        overdue = make_article(title="Overdue for Sam", days_ago=800, assigned_reviewer=sam)
        soon = make_article(title="Soon for Sam", days_ago=800, assigned_reviewer=sam)
        make_review(soon, reviewed_on=today - timedelta(days=350))
        make_article(title="Sam's draft", published=False, assigned_reviewer=sam)
        fresh = make_article(title="Fresh for Kim", assigned_reviewer=kim)
        make_review(fresh, reviewed_on=today)
        make_article(title="Nobody's mail", days_ago=800, assigned_reviewer=noemail)
        make_article(title="Unassigned", days_ago=800)
        remind_and_deliver()

    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == ["sam@example.org"]
    assert "1 article(s) overdue, 1 due soon" in message["Subject"]
    assert message["Message-ID"].endswith("@testserver>")
    text = body(message)
    overdue_part, soon_part = text.split("Due in the next 30 days:")
    assert "Overdue for Sam" in overdue_part and "Soon for Sam" in soon_part
    assert f"http://testserver/admin/articles/article/{overdue.pk}/record-review/" in text
    for absent in ("Sam's draft", "Fresh for Kim", "Nobody's mail", "Unassigned"):
        assert absent not in text
    reminder = ReviewReminder.objects.get()
    assert reminder.sent_at is not None and reminder.subject == message["Subject"]

    for day in range(1, 7):  # the daily scheduler runs again: nothing more this week
        with time_machine.travel(start + timedelta(days=day), tick=True):
            remind_and_deliver()
    assert len(smtp.messages) == 1

    with time_machine.travel(start + timedelta(days=7, minutes=1), tick=True):
        remind_and_deliver()
        remind_and_deliver()
    assert [rcpt for rcpt, _ in smtp.messages] == [["sam@example.org"], ["sam@example.org"]]


@pytest.mark.django_db(transaction=True)
def test_smtp_down_then_up_the_reminder_arrives_once(settings):
    """With no SMTP server the failure is recorded and retried; once the server is up the digest
    arrives, and the week's limit still holds."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = (
        "127.0.0.1",
        port,
        False,
        5,
    )
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    sam = make_reviewer(email="sam@example.org")
    make_article(days_ago=800, assigned_reviewer=sam)
    remind_and_deliver()  # nothing listens
    reminder = ReviewReminder.objects.get()
    assert reminder.sent_at is None and reminder.attempts == 1 and reminder.last_error

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        now = timezone.now()
        ReviewReminder.objects.update(next_attempt_at=now)  # as if the backoff had passed
        DBTaskResult.objects.filter(status="READY").update(run_after=now)
        remind_and_deliver()
    finally:
        controller.stop()
    assert [rcpt for rcpt, _ in inbox.messages] == [["sam@example.org"]]
    assert ReviewReminder.objects.count() == 1 and ReviewReminder.objects.get().attempts == 2


@pytest.mark.django_db
def test_a_reminder_with_nothing_due_any_more_is_skipped(django_capture_on_commit_callbacks, mailoutbox):
    """Reviewed between the scheduling and the sending: the reminder is skipped, not sent."""
    from articles.reminders import deliver_reminder, schedule_reminders

    sam = make_reviewer(email="sam@example.org")
    article = make_article(days_ago=800, assigned_reviewer=sam)
    with django_capture_on_commit_callbacks(execute=False):
        assert schedule_reminders() == 1
    make_review(article, reviewer=sam, reviewed_on=date.today())
    assert deliver_reminder(reminder_id=ReviewReminder.objects.get().pk) == "skipped"
    assert mailoutbox == []


@pytest.mark.django_db
def test_every_option(monkeypatch):
    """--every must be positive; with it the command runs a pass, sleeps, and runs again."""
    with pytest.raises(CommandError):
        call_command("send_review_reminders", every=0, stdout=None)
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("articles.management.commands.send_review_reminders.time.sleep", sleep)
    with pytest.raises(KeyboardInterrupt):
        call_command("send_review_reminders", every=86400, stdout=None)
    assert sleeps == [86400, 86400]


def test_procfile_runs_reminders_beside_the_scheduler():
    """The Procfile keeps its scheduler line and adds a reminders process running daily."""
    from pathlib import Path

    from django.conf import settings

    lines = Path(settings.BASE_DIR, "Procfile").read_text().splitlines()
    assert any(line.startswith("scheduler: ") for line in lines)
    assert "reminders: python manage.py send_review_reminders --every 86400" in lines
