"""Retention: pending signups and the text of old emails are not kept longer than the settings say."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from protocols.models import EmailDelivery, Signup


@pytest.mark.django_db
def test_purge_expired_deletes_old_pending_signups_and_clears_old_email_text(protocol, make_signup, settings):
    """Pending past SIGNUP_PENDING_DAYS: deleted (a recent resend keeps one); confirmed ones stay; the text of
    emails sent past EMAIL_CONTENT_DAYS is cleared while the delivery row stays."""
    settings.SIGNUP_PENDING_DAYS, settings.EMAIL_CONTENT_DAYS = 30, 90
    now = timezone.now()
    old = now - timedelta(days=31)
    stale = make_signup(protocol, "stale@example.org", confirmation_sent_at=old)
    Signup.objects.filter(pk=stale.pk).update(created_at=old)
    asked_again = make_signup(protocol, "again@example.org", confirmation_sent_at=now - timedelta(days=2))
    Signup.objects.filter(pk=asked_again.pk).update(created_at=old)
    confirmed = make_signup(protocol, "kept@example.org", status="confirmed", confirmation_sent_at=old)
    Signup.objects.filter(pk=confirmed.pk).update(created_at=old)
    sent = {"to_email": confirmed.email, "subject": "S", "text_body": "text", "html_body": "<p>html</p>"}
    old_email = EmailDelivery.objects.create(signup=confirmed, sent_at=now - timedelta(days=91), **sent)
    new_email = EmailDelivery.objects.create(signup=confirmed, sent_at=now - timedelta(days=89), **sent)

    out = io.StringIO()
    call_command("purge_expired", stdout=out)

    assert set(Signup.objects.values_list("email", flat=True)) == {"again@example.org", "kept@example.org"}
    old_email.refresh_from_db()
    new_email.refresh_from_db()
    assert (old_email.text_body, old_email.html_body, old_email.subject) == ("", "", "S")
    assert old_email.sent_at is not None
    assert new_email.text_body == "text"
    assert out.getvalue().startswith("Deleted 1 signup(s) pending for over 30 days; cleared the text of 1 email(s)")


@pytest.mark.django_db
def test_a_pending_signup_is_kept_until_its_day_comes(protocol, make_signup, settings):
    """With a moved clock: kept on day 29, deleted on day 31."""
    settings.SIGNUP_PENDING_DAYS = 30
    with time_machine.travel(timezone.now() - timedelta(days=31), tick=False):
        make_signup(protocol, "late@example.org", confirmation_sent_at=timezone.now())
    with time_machine.travel(timezone.now() - timedelta(days=2), tick=False):
        call_command("purge_expired", stdout=io.StringIO())
        assert Signup.objects.exists()
    call_command("purge_expired", stdout=io.StringIO())
    assert not Signup.objects.exists()
