"""Keep subscribers' data no longer than needed (`manage.py purge_expired`)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import EmailDelivery, Signup

BATCH_SIZE = 1000


def purge_expired(*, now=None):
    """Delete pending signups never confirmed and clear old emails' text; returns (signups, emails)."""
    now = now or timezone.now()
    pending_cutoff = now - timedelta(days=settings.SIGNUP_PENDING_DAYS)
    # The last confirmation sent counts: a reader who asked again yesterday keeps their signup.
    expired = Signup.objects.alias(last_asked=Coalesce("confirmation_sent_at", "created_at")).filter(
        status=Signup.Status.PENDING, last_asked__lt=pending_cutoff
    )
    signups = 0
    while ids := list(expired.values_list("pk", flat=True)[:BATCH_SIZE]):
        signups += Signup.objects.filter(pk__in=ids).delete()[1].get("protocols.Signup", 0)
    content_cutoff = now - timedelta(days=settings.EMAIL_CONTENT_DAYS)
    emails = (
        EmailDelivery.objects.filter(sent_at__lt=content_cutoff)
        .filter(~Q(text_body="") | ~Q(html_body=""))
        .update(text_body="", html_body="")
    )
    return signups, emails
