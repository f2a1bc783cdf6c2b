"""Every side effect of the signup flow, in one place.

Each function is atomic and idempotent. Emails are written to the EmailDelivery outbox in
the same transaction as the change that needs them, and handed to the task queue after
commit; the task sends them and retries with backoff (see deliver_email).
"""

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q, Value
from django.db.models.functions import Lower
from django.utils import timezone

from .models import EmailDelivery, Signup

logger = logging.getLogger(__name__)

# A pending address that signs up again gets the confirmation again, at most this often.
RESEND_INTERVAL = timedelta(minutes=5)
# Delivery retries: 1, 2, 4, ... minutes, at most 6 hours apart, for about two days.
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX_DELAY = timedelta(hours=6)
MAX_ATTEMPTS = 14
# How long one worker may hold a delivery while talking to the SMTP server.
CLAIM_DURATION = timedelta(minutes=2)
CLOCK_MARGIN = timedelta(seconds=5)  # well under the first retry delay (1 minute)

MAX_EMAIL_LENGTH = 254


class SignupsClosed(Exception):
    """The protocol takes no signups (it is closed)."""


# --- Email addresses -------------------------------------------------------------------


def normalize_email(value):
    """Trim and lower-case the domain; the local part is kept as written."""
    value = (value or "").strip()
    local, sep, domain = value.rpartition("@")
    if not sep:
        return value
    return f"{local}@{domain.lower()}"


def validate_signup_email(value):
    """Raise ValidationError unless `value` (already normalised) is one safe address."""
    if any(ch in value for ch in "\r\n\0") or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        # Line breaks or control characters are attempts to inject mail headers.
        raise ValidationError("Enter one email address, without line breaks.", code="invalid")
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValidationError(f"Email addresses can be at most {MAX_EMAIL_LENGTH} characters long.", code="max_length")
    if "," in value or ";" in value or "<" in value or ">" in value:
        raise ValidationError("Enter one email address, like name@example.com.", code="invalid")
    validate_email(value)


def _signup_for(protocol, email):
    # Compare the way the unique constraint does (Lower in the database), so a lookup and
    # the constraint never disagree.
    return Signup.objects.alias(email_lower=Lower("email")).filter(protocol=protocol, email_lower=Lower(Value(email)))


# --- The flow ---------------------------------------------------------------------------


def create_signup(*, protocol, email, now=None):
    """Store a signup (pending) and queue its confirmation; the same for every address.

    New, pending, confirmed and unsubscribed addresses all end here without a visible
    difference to the caller's visitor. Pending ones get the confirmation again at most
    once per RESEND_INTERVAL; confirmed ones get nothing; unsubscribed ones start again
    with a fresh confirmation. Raises ValidationError for a bad address and SignupsClosed
    for a closed protocol.
    """
    if not protocol.accepts_signups:
        raise SignupsClosed(protocol.slug)
    email = normalize_email(email)
    validate_signup_email(email)
    now = now or timezone.now()

    # Two requests with the same address can race to insert: the loser's INSERT fails
    # on the unique constraint, and its second pass finds the winner's row.
    for attempt in range(2):
        try:
            with transaction.atomic():
                signup = _signup_for(protocol, email).select_for_update().first()
                if signup is None:
                    signup = Signup(
                        protocol=protocol,
                        email=email,
                        consent_text=protocol.consent_text,
                        consented_at=now,
                        confirmation_sent_at=now,
                    )
                    # The protocol is known to exist and the constraint is the database's
                    # job (checking it here would race anyway): no extra queries.
                    signup.full_clean(exclude=["protocol"], validate_unique=False, validate_constraints=False)
                    signup.save()
                    _queue_confirmation(signup, now=now, save_signup=False)
                elif signup.status == Signup.Status.UNSUBSCRIBED:
                    signup.status = Signup.Status.PENDING
                    signup.consent_text = protocol.consent_text
                    signup.consented_at = now
                    signup.confirmed_at = None
                    signup.save(update_fields=["status", "consent_text", "consented_at", "confirmed_at"])
                    _queue_confirmation(signup, now=now)
                elif signup.status == Signup.Status.PENDING and _may_resend(signup, now):
                    _queue_confirmation(signup, now=now)
                return signup
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _may_resend(signup, now):
    return signup.confirmation_sent_at is None or now - signup.confirmation_sent_at >= RESEND_INTERVAL


def resend_confirmation(*, signup, force=False, now=None):
    """Queue the confirmation again for a pending signup; returns whether one was queued.

    Without `force` this respects RESEND_INTERVAL (readers asking for a new link);
    staff use force from the admin.
    """
    now = now or timezone.now()
    with transaction.atomic():
        signup = Signup.objects.select_for_update().select_related("protocol").get(pk=signup.pk)
        if signup.status != Signup.Status.PENDING or not (force or _may_resend(signup, now)):
            return False
        _queue_confirmation(signup, now=now)
        return True


def confirm_signup(*, signup, now=None):
    """Confirm a pending signup; confirming again changes nothing. Returns the signup.

    An unsubscribed signup stays unsubscribed (an old link must not resubscribe anyone).
    """
    now = now or timezone.now()
    with transaction.atomic():
        signup = Signup.objects.select_for_update().select_related("protocol").get(pk=signup.pk)
        if signup.status == Signup.Status.PENDING:
            signup.status = Signup.Status.CONFIRMED
            signup.confirmed_at = now
            signup.save(update_fields=["status", "confirmed_at"])
        return signup


def unsubscribe(*, signup, now=None):
    """Unsubscribe; doing it again changes nothing. Pending confirmations are not sent."""
    now = now or timezone.now()
    with transaction.atomic():
        signup = Signup.objects.select_for_update().select_related("protocol").get(pk=signup.pk)
        if signup.status != Signup.Status.UNSUBSCRIBED:
            signup.status = Signup.Status.UNSUBSCRIBED
            signup.unsubscribed_at = now
            signup.save(update_fields=["status", "unsubscribed_at"])
        return signup


# --- Delivery ---------------------------------------------------------------------------


def _queue_confirmation(signup, *, now, save_signup=True):
    if save_signup:
        signup.confirmation_sent_at = now
        signup.save(update_fields=["confirmation_sent_at"])
    delivery = EmailDelivery.objects.create(
        signup=signup, kind=EmailDelivery.Kind.CONFIRMATION, to_email=signup.email, next_attempt_at=now
    )
    # robust: the signup and its delivery are committed; if queuing fails (the queue's
    # table locked, a crash), the error is logged, the reader still gets the answer and
    # `requeue_emails` sends the email later.
    transaction.on_commit(lambda: enqueue_delivery(delivery.pk), robust=True)
    return delivery


def enqueue_delivery(delivery_id, *, run_after=None):
    """Hand a delivery to the task queue (now, or at run_after when the backend can defer)."""
    from .tasks import send_email_delivery

    task = send_email_delivery
    if run_after is not None:
        if not task.get_backend().supports_defer:
            # The immediate backend cannot wait: `requeue_due_deliveries` picks it up later.
            return None
        task = task.using(run_after=run_after)
    return task.enqueue(delivery_id)


def retry_delay(attempts):
    """Backoff after the n-th failed attempt: 1, 2, 4, ... minutes, capped."""
    return min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_MAX_DELAY)


def _claim(delivery_id, now):
    # A conditional UPDATE is atomic on every database: only one worker wins a delivery,
    # and no lock is held while the SMTP server is slow. Only a delivery that is due: a
    # task queued twice (requeue_emails while the worker was down) must not spend a retry
    # before its backoff is over. The margin allows for clocks of other machines.
    return (
        EmailDelivery.objects.filter(pk=delivery_id, sent_at__isnull=True, skipped_reason="", gave_up_at__isnull=True)
        .filter(next_attempt_at__lte=now + CLOCK_MARGIN)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM_DURATION)
    )


def deliver_email(*, delivery_id, connection=None):
    """Send one outbox email; on failure record it and schedule a retry. Never raises for SMTP.

    Returns "sent", "skipped", "busy" (another worker has it, or it is done) or "failed".
    """
    from .emails import build_confirmation_email

    now = timezone.now()
    if not _claim(delivery_id, now):
        return "busy"
    delivery = EmailDelivery.objects.select_related("signup__protocol").get(pk=delivery_id)
    signup = delivery.signup

    if signup.status != Signup.Status.PENDING:
        # Confirmed or unsubscribed since it was queued: the email is no longer wanted.
        EmailDelivery.objects.filter(pk=delivery_id).update(
            skipped_reason=f"signup {signup.status}", claimed_until=None, next_attempt_at=None
        )
        return "skipped"

    try:
        message = build_confirmation_email(signup, connection=connection or get_connection(fail_silently=False))
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP refusals, timeouts, DNS: all retried
        return _record_failure(delivery, exc)

    EmailDelivery.objects.filter(pk=delivery_id).update(
        sent_at=timezone.now(),
        last_attempt_at=now,
        attempts=delivery.attempts + 1,
        claimed_until=None,
        next_attempt_at=None,
    )
    logger.info("email delivery %s sent (attempt %s)", delivery_id, delivery.attempts + 1)
    return "sent"


def _record_failure(delivery, exc):
    now = timezone.now()
    attempts = delivery.attempts + 1
    error = f"{type(exc).__name__}: {exc}"[:2000]
    gave_up = attempts >= MAX_ATTEMPTS
    next_attempt_at = None if gave_up else now + retry_delay(attempts)
    with transaction.atomic():
        EmailDelivery.objects.filter(pk=delivery.pk).update(
            attempts=attempts,
            last_error=error,
            last_attempt_at=now,
            next_attempt_at=next_attempt_at,
            gave_up_at=now if gave_up else None,
            claimed_until=None,
        )
        if not gave_up:
            # Same database, same transaction: the retry is scheduled if and only if the
            # failure is recorded.
            enqueue_delivery(delivery.pk, run_after=next_attempt_at)
    logger.warning(
        "email delivery %s failed (attempt %s, %s): %s",
        delivery.pk,
        attempts,
        "giving up" if gave_up else f"retry at {next_attempt_at:%Y-%m-%d %H:%M:%S}",
        error,
    )
    return "failed"


def retry_delivery_now(*, delivery):
    """Staff: try an undelivered email again now, even after the retries gave up."""
    with transaction.atomic():
        updated = EmailDelivery.objects.filter(pk=delivery.pk, sent_at__isnull=True, skipped_reason="").update(
            gave_up_at=None, next_attempt_at=timezone.now(), claimed_until=None
        )
        if updated:
            transaction.on_commit(lambda: enqueue_delivery(delivery.pk))
    return bool(updated)


def requeue_due_deliveries(*, now=None, grace=timedelta(minutes=10)):
    """Enqueue outbox emails whose task went missing (e.g. a crash right after commit).

    Safe to run at any time: the claim in deliver_email stops double sends.
    """
    now = now or timezone.now()
    due = EmailDelivery.objects.filter(
        sent_at__isnull=True,
        skipped_reason="",
        gave_up_at__isnull=True,
        next_attempt_at__lte=now - grace,
    ).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    ids = list(due.values_list("pk", flat=True)[:1000])
    for delivery_id in ids:
        enqueue_delivery(delivery_id)
    return len(ids)
