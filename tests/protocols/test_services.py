from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from protocols import services
from protocols.models import EmailDelivery, Protocol, Signup


def signup(protocol, email, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return services.create_signup(protocol=protocol, email=email, **kwargs)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  Ann.Lee@Example.ORG \t", "Ann.Lee@example.org"),
        ("ann@example.org", "ann@example.org"),
        ("MiXed+Tag@SUB.Example.Com", "MiXed+Tag@sub.example.com"),
    ],
)
def test_normalize_email_trims_and_lowercases_the_domain(raw, normalised):
    """Addresses are trimmed and their domain lower-cased; the local part is kept as typed."""
    assert services.normalize_email(raw) == normalised


@pytest.mark.django_db
def test_new_signup_is_pending_with_consent_and_one_queued_email(protocol, django_capture_on_commit_callbacks):
    """A new address is stored pending, with the consent text and time, and one email is queued after commit."""
    with django_capture_on_commit_callbacks() as callbacks:
        result = services.create_signup(protocol=protocol, email=" New@Example.ORG ")
        assert DBTaskResult.objects.count() == 0  # nothing is queued before the commit
    assert len(callbacks) == 1
    for callback in callbacks:
        callback()
    result.refresh_from_db()
    assert result.email == "New@example.org"
    assert result.status == Signup.Status.PENDING
    assert result.consent_text == protocol.consent_text
    assert result.consented_at is not None
    delivery = EmailDelivery.objects.get()
    assert delivery.signup == result and delivery.sent_at is None
    task = DBTaskResult.objects.get()
    assert task.task_path == "protocols.tasks.send_email_delivery"
    assert task.args_kwargs["args"] == [delivery.pk]


@pytest.mark.django_db
def test_pending_address_gets_the_email_again_at_most_every_few_minutes(protocol, django_capture_on_commit_callbacks):
    """Signing up again while pending re-sends the confirmation, but not more often than RESEND_INTERVAL."""
    now = timezone.now()
    signup(protocol, "a@example.org", django_capture_on_commit_callbacks, now=now)
    signup(protocol, "A@EXAMPLE.org", django_capture_on_commit_callbacks, now=now + timedelta(minutes=1))
    assert EmailDelivery.objects.count() == 1
    later = now + services.RESEND_INTERVAL + timedelta(seconds=1)
    signup(protocol, "a@example.org", django_capture_on_commit_callbacks, now=later)
    assert EmailDelivery.objects.count() == 2
    assert Signup.objects.count() == 1


@pytest.mark.django_db
def test_confirmed_address_gets_no_second_email(protocol, make_signup, django_capture_on_commit_callbacks):
    """A confirmed subscriber signing up again changes nothing and receives nothing."""
    existing = make_signup(protocol, "c@example.org", status=Signup.Status.CONFIRMED, confirmed_at=timezone.now())
    result = signup(protocol, "C@example.org", django_capture_on_commit_callbacks)
    assert result.pk == existing.pk
    result.refresh_from_db()
    assert result.status == Signup.Status.CONFIRMED
    assert EmailDelivery.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db
def test_unsubscribed_address_can_rejoin_through_a_fresh_confirmation(
    protocol, make_signup, django_capture_on_commit_callbacks
):
    """An unsubscribed address that signs up again is pending again and gets a new confirmation."""
    old = make_signup(
        protocol,
        "u@example.org",
        status=Signup.Status.UNSUBSCRIBED,
        consent_text="old wording",
        confirmed_at=timezone.now(),
    )
    result = signup(protocol, "u@example.org", django_capture_on_commit_callbacks)
    result.refresh_from_db()
    assert result.pk == old.pk
    assert result.status == Signup.Status.PENDING
    assert result.consent_text == protocol.consent_text
    assert result.confirmed_at is None
    assert EmailDelivery.objects.filter(signup=result).count() == 1


@pytest.mark.django_db
def test_closed_protocol_refuses_signups(make_protocol):
    """A closed protocol raises SignupsClosed and stores nothing."""
    closed = make_protocol(status=Protocol.Status.CLOSED)
    with pytest.raises(services.SignupsClosed):
        services.create_signup(protocol=closed, email="a@example.org")
    assert Signup.objects.count() == 0


@pytest.mark.django_db
def test_upcoming_protocol_takes_waitlist_signups(make_protocol, django_capture_on_commit_callbacks):
    """An upcoming protocol stores waitlist signups with a confirmation, like an open one."""
    upcoming = make_protocol(status=Protocol.Status.UPCOMING)
    result = signup(upcoming, "w@example.org", django_capture_on_commit_callbacks)
    assert result.status == Signup.Status.PENDING
    assert EmailDelivery.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "a@b",
        "",
        "victim@example.org\r\nBcc: everyone@example.org",
        "victim@example.org\nBcc: x@example.org",
        "a@example.org\x00",
        "a@example.org, b@example.org",
        "Name <a@example.org>",
        "x" * 250 + "@example.org",
    ],
)
def test_invalid_addresses_store_and_send_nothing(protocol, email, django_capture_on_commit_callbacks):
    """Bad, over-long or header-injecting addresses raise ValidationError with no row and no email."""
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.create_signup(protocol=protocol, email=email)
    assert Signup.objects.count() == 0
    assert EmailDelivery.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db
def test_insert_race_returns_the_existing_signup(
    protocol, make_signup, monkeypatch, django_capture_on_commit_callbacks
):
    """When another request inserts the same address between lookup and insert, the outcome is the same."""
    winner = make_signup(protocol, "race@example.org", confirmation_sent_at=timezone.now())
    real_signup_for = services._signup_for
    calls = []

    def blind_first_lookup(protocol, email):
        calls.append(email)
        if len(calls) == 1:
            return Signup.objects.none()  # the other request's row is not seen yet
        return real_signup_for(protocol, email)

    monkeypatch.setattr(services.signups, "_signup_for", blind_first_lookup)
    result = signup(protocol, "Race@example.org", django_capture_on_commit_callbacks)
    assert result.pk == winner.pk
    assert len(calls) == 2
    assert Signup.objects.count() == 1
    assert EmailDelivery.objects.count() == 0  # the winner already queued its email


@pytest.mark.django_db
def test_a_second_integrity_error_is_not_swallowed(protocol, monkeypatch):
    """Only the race is retried: a constraint failure that persists still raises."""

    def always_fails(*args, **kwargs):
        raise IntegrityError("boom")

    monkeypatch.setattr(Signup, "save", always_fails)
    with pytest.raises(IntegrityError):
        services.create_signup(protocol=protocol, email="x@example.org")


@pytest.mark.django_db
def test_confirm_is_idempotent(protocol, make_signup):
    """Confirming sets confirmed_at once; confirming again changes nothing."""
    pending = make_signup(protocol)
    first = services.confirm_signup(signup=pending)
    assert first.status == Signup.Status.CONFIRMED
    confirmed_at = first.confirmed_at
    second = services.confirm_signup(signup=pending)
    assert second.status == Signup.Status.CONFIRMED and second.confirmed_at == confirmed_at


@pytest.mark.django_db
def test_confirm_does_not_resubscribe_an_unsubscribed_address(protocol, make_signup):
    """An old confirmation link cannot undo an unsubscribe."""
    gone = make_signup(protocol, status=Signup.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now())
    assert services.confirm_signup(signup=gone).status == Signup.Status.UNSUBSCRIBED


@pytest.mark.django_db
def test_unsubscribe_is_idempotent(protocol, make_signup):
    """Unsubscribing records the time once and works any number of times."""
    confirmed = make_signup(protocol, status=Signup.Status.CONFIRMED)
    first = services.unsubscribe(signup=confirmed)
    assert first.status == Signup.Status.UNSUBSCRIBED
    again = services.unsubscribe(signup=confirmed)
    assert again.unsubscribed_at == first.unsubscribed_at


@pytest.mark.django_db
def test_resend_confirmation_respects_the_interval_unless_forced(
    protocol, make_signup, django_capture_on_commit_callbacks
):
    """Readers' resends wait RESEND_INTERVAL; staff can force one; non-pending signups get none."""
    pending = make_signup(protocol, confirmation_sent_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resend_confirmation(signup=pending) is False
        assert services.resend_confirmation(signup=pending, force=True) is True
    assert EmailDelivery.objects.count() == 1
    confirmed = make_signup(protocol, "c@example.org", status=Signup.Status.CONFIRMED)
    assert services.resend_confirmation(signup=confirmed, force=True) is False


@pytest.mark.parametrize(("attempts", "minutes"), [(1, 1), (2, 2), (3, 4), (6, 32), (20, 360)])
def test_retry_delay_backs_off_exponentially_with_a_cap(attempts, minutes):
    """Retries wait 1, 2, 4, ... minutes after each failure, never more than 6 hours."""
    assert services.retry_delay(attempts) == timedelta(minutes=minutes)
