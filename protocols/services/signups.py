"""The signup flow: sign up, confirm (which starts the program), unsubscribe.

Each function is atomic and idempotent. Emails are written to the EmailDelivery outbox in
the same transaction as the change that needs them, and handed to the task queue after
commit; the task sends them and retries with backoff (see delivery.deliver_email).
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone

from ..models import EmailDelivery, Signup
from .delivery import enqueue_delivery
from .program import enter_program

# A pending address that signs up again gets the confirmation again, at most this often.
RESEND_INTERVAL = timedelta(minutes=5)

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

    On an open (or closed) protocol the subscriber enters the program at once, so a first
    step without delay is queued in this transaction; on a waitlist they enter when staff
    open the protocol. An unsubscribed signup stays unsubscribed (an old link must not
    resubscribe anyone).
    """
    now = now or timezone.now()
    with transaction.atomic():
        signup = Signup.objects.select_for_update().select_related("protocol").get(pk=signup.pk)
        if signup.status == Signup.Status.PENDING:
            signup.status = Signup.Status.CONFIRMED
            signup.confirmed_at = now
            signup.save(update_fields=["status", "confirmed_at"])
            if not signup.protocol.is_waitlist:
                enter_program(signup, started_at=now, now=now)
        return signup


def unsubscribe(*, signup, now=None):
    """Unsubscribe; doing it again changes nothing. Emails not yet sent are not sent."""
    now = now or timezone.now()
    with transaction.atomic():
        signup = Signup.objects.select_for_update().select_related("protocol").get(pk=signup.pk)
        if signup.status != Signup.Status.UNSUBSCRIBED:
            signup.status = Signup.Status.UNSUBSCRIBED
            signup.unsubscribed_at = now
            signup.next_step_due_at = None
            signup.save(update_fields=["status", "unsubscribed_at", "next_step_due_at"])
        return signup


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
