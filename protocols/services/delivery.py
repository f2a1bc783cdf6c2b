"""The outbox: send one EmailDelivery, record failures, retry with backoff, mark bounces.

A delivery is written in the same transaction as the change that needs it and handed to
the task queue after commit. The worker claims it with a conditional UPDATE, checks again
that the email is still wanted, sends it and records the outcome. A worker killed between
the SMTP server's acceptance and the UPDATE that records it leaves the claim to expire:
that one email is sent again (at-least-once for the email in flight, never for others).
"""

import contextlib
import logging
import smtplib
from datetime import timedelta

from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone

from ..models import BouncedAddress, EmailDelivery, Signup

logger = logging.getLogger(__name__)

# Delivery retries: 1, 2, 4, ... minutes, at most 6 hours apart, for about two days.
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX_DELAY = timedelta(hours=6)
MAX_ATTEMPTS = 14
# How long one worker may hold a delivery while talking to the SMTP server.
CLAIM_DURATION = timedelta(minutes=2)
CLOCK_MARGIN = timedelta(seconds=5)  # well under the first retry delay (1 minute)

STEP_DELETED = "step deleted"
UNDELIVERED = Q(sent_at__isnull=True, skipped_reason="", gave_up_at__isnull=True)


def enqueue_delivery(delivery_id, *, run_after=None):
    """Hand a delivery to the task queue (now, or at run_after when the backend can defer)."""
    from ..tasks import send_email_delivery

    task = send_email_delivery
    if run_after is not None:
        if not task.get_backend().supports_defer:
            # The immediate backend cannot wait: `requeue_due_deliveries` picks it up later.
            return None
        task = task.using(run_after=run_after)
    return task.enqueue(delivery_id)


def enqueue_deliveries(delivery_ids):
    """Hand a batch to one task: the worker sends it over one SMTP connection."""
    from ..tasks import send_email_deliveries

    if delivery_ids:
        return send_email_deliveries.enqueue(list(delivery_ids))
    return None


def retry_delay(attempts):
    """Backoff after the n-th failed attempt: 1, 2, 4, ... minutes, capped."""
    return min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_MAX_DELAY)


def _claim(delivery_id, now):
    # A conditional UPDATE is atomic on every database: only one worker wins a delivery,
    # and no lock is held while the SMTP server is slow. Only a delivery that is due: a
    # task queued twice (requeue_emails while the worker was down) must not spend a retry
    # before its backoff is over. The margin allows for clocks of other machines.
    return (
        EmailDelivery.objects.filter(UNDELIVERED, pk=delivery_id)
        .filter(next_attempt_at__lte=now + CLOCK_MARGIN)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM_DURATION)
    )


def is_bounced(email):
    return BouncedAddress.objects.filter(email__iexact=email).exists() if email.isascii() else _bounced_lower(email)


def _bounced_lower(email):
    # iexact is not case-insensitive for non-ASCII text on SQLite: compare like the constraint.
    return BouncedAddress.objects.annotate(email_lower=Lower("email")).filter(email_lower=email.lower()).exists()


def _address_bounced():
    # In the query that loads the delivery: one query fewer per email. Equal to is_bounced()
    # for ASCII addresses; the others are checked by is_bounced() itself.
    bounced = BouncedAddress.objects.annotate(email_lower=Lower("email"))
    return Exists(bounced.filter(email_lower=Lower(OuterRef("signup__email"))))


def _why_not_wanted(delivery, signup):
    """Why the email must not go out any more, or "" when it still should."""
    if delivery.kind == EmailDelivery.Kind.CONFIRMATION:
        return "" if signup.status == Signup.Status.PENDING else f"signup {signup.status}"
    if signup.status != Signup.Status.CONFIRMED:
        return f"signup {signup.status}"
    if signup.paused_at is not None:
        return "signup paused"
    if delivery.step_id is None:
        return STEP_DELETED
    bounced = delivery.address_bounced if signup.email.isascii() else is_bounced(signup.email)
    if bounced:
        return "address bounced"
    return ""


def _build(delivery, connection):
    from ..emails import build_confirmation_email, build_step_email

    if delivery.kind == EmailDelivery.Kind.STEP:
        return build_step_email(delivery.signup, delivery.step, connection=connection)
    return build_confirmation_email(delivery.signup, connection=connection)


def deliver_email(*, delivery_id, connection=None):
    """Send one outbox email; on failure record it and schedule a retry. Never raises for SMTP.

    Returns "sent", "skipped", "bounced", "busy" (another worker has it, it is done or it
    is gone) or "failed".
    """
    now = timezone.now()
    if not _claim(delivery_id, now):
        return "busy"
    delivery = (
        EmailDelivery.objects.select_related("signup__protocol", "step")
        .annotate(address_bounced=_address_bounced())
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:  # erased between the claim and now
        return "busy"
    signup = delivery.signup

    reason = _why_not_wanted(delivery, signup)
    if reason:
        with transaction.atomic():
            EmailDelivery.objects.filter(pk=delivery_id).update(
                skipped_reason=reason, claimed_until=None, next_attempt_at=None
            )
            if reason == STEP_DELETED:
                # The subscriber still wants the program: the step after it takes its place.
                from .program import replan

                replan(signup)
        logger.info("email delivery %s skipped: %s", delivery_id, reason)
        return "skipped"

    try:
        if connection is not None:
            # Opened here, not by send(): a backend that opens the connection itself also
            # closes it after the message, and the batch would reconnect for every email.
            connection.open()
        message = _build(delivery, connection or get_connection(fail_silently=False))
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP refusals, timeouts, DNS: retried unless permanent
        if connection is not None and not _is_recipient_refusal(exc):
            # The connection may be broken: the next email of the batch opens a new one.
            _close_quietly(connection)
        if _is_permanent_refusal(exc):
            return _record_bounce(delivery, exc, now)
        return _record_failure(delivery, exc)

    _record_sent(delivery, message, now)
    return "sent"


def _record_sent(delivery, message, attempt_started):
    from .program import step_sent

    sent_at = timezone.now()
    html = next((content for content, mimetype in message.alternatives if mimetype == "text/html"), "")
    with transaction.atomic():
        EmailDelivery.objects.filter(pk=delivery.pk).update(
            sent_at=sent_at,
            last_attempt_at=attempt_started,
            attempts=delivery.attempts + 1,
            claimed_until=None,
            next_attempt_at=None,
            subject=message.subject,
            text_body=message.body,
            html_body=html,
        )
        if delivery.kind == EmailDelivery.Kind.STEP:
            step_sent(delivery, sent_at=sent_at)
    logger.info("email delivery %s sent (attempt %s)", delivery.pk, delivery.attempts + 1)


def send_batch(delivery_ids):
    """Send several deliveries over one SMTP connection; returns {outcome: count}."""
    outcomes = {}
    connection = get_connection(fail_silently=False)
    try:
        for delivery_id in delivery_ids:
            outcome = deliver_email(delivery_id=delivery_id, connection=connection)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    finally:
        _close_quietly(connection)
    return outcomes


def _close_quietly(connection):
    # A connection that cannot even close is already gone.
    with contextlib.suppress(Exception):
        connection.close()


def _smtp_code(exc):
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return min(codes) if codes else None
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return None  # our sender address was refused: not the subscriber's address
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code
    return None


def _is_recipient_refusal(exc):
    return isinstance(exc, smtplib.SMTPRecipientsRefused)


def _is_permanent_refusal(exc):
    code = _smtp_code(exc)
    return code is not None and 500 <= code < 600


def _record_bounce(delivery, exc, now):
    """A permanent refusal: no retries, and no more program emails to this address."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    with transaction.atomic():
        EmailDelivery.objects.filter(pk=delivery.pk).update(
            attempts=delivery.attempts + 1,
            last_error=error,
            last_attempt_at=now,
            next_attempt_at=None,
            claimed_until=None,
            skipped_reason="address bounced",
        )
        if not is_bounced(delivery.to_email):
            BouncedAddress.objects.create(email=delivery.to_email, bounced_at=now, reason=error)
    logger.warning("email delivery %s bounced, address marked: %s", delivery.pk, error)
    return "bounced"


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
    due = EmailDelivery.objects.filter(UNDELIVERED, next_attempt_at__lte=now - grace).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    ids = list(due.values_list("pk", flat=True)[:1000])
    for delivery_id in ids:
        enqueue_delivery(delivery_id)
    return len(ids)
