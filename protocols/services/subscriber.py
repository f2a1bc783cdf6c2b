"""What subscribers do on their own page (and staff for them): pause, resume, time zone, data."""

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone

from ..models import BouncedAddress, EmailDelivery, Signup
from .program import plan_next, reschedule


def _locked(signup):
    return Signup.objects.select_for_update().select_related("protocol").get(pk=signup.pk)


def pause(*, signup, now=None):
    """No program emails until resumed; an email already on its way is skipped by the worker."""
    now = now or timezone.now()
    with transaction.atomic():
        signup = _locked(signup)
        if signup.paused_at is None and signup.status == Signup.Status.CONFIRMED:
            signup.paused_at = now
            signup.save(update_fields=["paused_at"])
        return signup


def resume(*, signup, now=None):
    """Continue with the next step, spaced from the last one sent (one step if overdue, never a burst)."""
    now = now or timezone.now()
    with transaction.atomic():
        signup = _locked(signup)
        if signup.paused_at is not None:
            signup.paused_at = None
            signup.save(update_fields=["paused_at"])
            plan_next(signup, now=now)
        return signup


def set_time_zone(*, signup, time_zone, now=None):
    """The subscriber's own zone for the send hour ("" for the protocol's)."""
    now = now or timezone.now()
    with transaction.atomic():
        signup = _locked(signup)
        signup.time_zone = time_zone
        signup.full_clean(validate_unique=False, validate_constraints=False)
        signup.save(update_fields=["time_zone"])
        if signup.next_step_due_at is not None:
            plan_next(signup, now=now)
        return signup


def export_data(signup):
    """Everything stored about this subscription, as JSON-ready data."""
    deliveries = signup.deliveries.order_by("created_at", "pk")
    return {
        "email": signup.email,
        "protocol": signup.protocol.name,
        "consent_text": signup.consent_text,
        "consented_at": _iso(signup.consented_at),
        "status": signup.status,
        "signed_up_at": _iso(signup.created_at),
        "confirmed_at": _iso(signup.confirmed_at),
        "unsubscribed_at": _iso(signup.unsubscribed_at),
        "paused_at": _iso(signup.paused_at),
        "time_zone": signup.time_zone or signup.protocol.time_zone,
        "program_started_at": _iso(signup.program_started_at),
        "completed_at": _iso(signup.completed_at),
        "bounced": BouncedAddress.objects.filter(email__iexact=signup.email).exists(),
        "emails": [
            {
                "kind": d.kind,
                "subject": d.subject,
                "created_at": _iso(d.created_at),
                "sent_at": _iso(d.sent_at),
                "skipped_reason": d.skipped_reason,
            }
            for d in deliveries
        ],
    }


def _iso(value):
    return value.isoformat() if value else None


def _same_address(queryset, email):
    return queryset.alias(email_lower=Lower("email")).filter(email_lower=Lower(Value(email)))


def erase_data(*, signup):
    """Delete the signup and everything tied to its address, on every protocol.

    Returns how many signups were erased. The deliveries go with their signups.
    """
    with transaction.atomic():
        signups = _same_address(Signup.objects.all(), signup.email)
        count = signups.count()
        EmailDelivery.objects.filter(signup__in=signups).delete()
        signups.delete()
        _same_address(BouncedAddress.objects.all(), signup.email).delete()
        return count


def lift_bounce(*, bounced):
    """Staff: the address may receive program emails again; stalled programs continue."""
    with transaction.atomic():
        email = bounced.email
        BouncedAddress.objects.filter(pk=bounced.pk).delete()
        waiting = _same_address(Signup.objects.filter(status=Signup.Status.CONFIRMED), email)
        return reschedule(waiting)
