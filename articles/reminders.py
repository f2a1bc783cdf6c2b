"""Review reminders: one weekly digest per reviewer, written to an outbox and sent by the worker.

The same pattern as the protocols' outbox (protocols/services/delivery.py), kept separate
because that one is tied to signups: a ReviewReminder row is written in a transaction, the
task is queued on commit, the worker claims the row with a conditional UPDATE (one winner),
builds the digest from the articles due at that moment, sends it and records the outcome;
failures are retried with backoff, permanent refusals are not.
"""

import logging
import smtplib
from collections import defaultdict
from datetime import timedelta
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import Article, Reviewer, ReviewReminder
from .review_cycle import DUE_SOON_DAYS, _entries

logger = logging.getLogger(__name__)

REMINDER_EVERY = timedelta(days=7)  # at most one digest a week per reviewer
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX_DELAY = timedelta(hours=6)
MAX_ATTEMPTS = 14
CLAIM_DURATION = timedelta(minutes=2)
CLOCK_MARGIN = timedelta(seconds=5)
UNDELIVERED = Q(sent_at__isnull=True, skipped_reason="", gave_up_at__isnull=True)


def due_by_reviewer(*, today=None):
    """{reviewer id: (overdue entries, due-soon entries)} for every assigned published article."""
    today = today or timezone.localdate()
    soon = today + timedelta(days=DUE_SOON_DAYS)
    found = defaultdict(lambda: ([], []))
    for entry in _entries(Article.objects.filter(assigned_reviewer__isnull=False)):
        if entry.due_on < today:
            found[entry.article.assigned_reviewer_id][0].append(entry)
        elif entry.due_on <= soon:
            found[entry.article.assigned_reviewer_id][1].append(entry)
    return found


def schedule_reminders(*, now=None):
    """Write a reminder for each reviewer with an email and articles due, unless they had one
    in the last 7 days; returns how many were written. Safe to run often and concurrently."""
    now = now or timezone.now()
    written = 0
    for reviewer_id in due_by_reviewer(today=timezone.localdate(now)):
        with transaction.atomic():
            # The row lock (PostgreSQL; SQLite's IMMEDIATE transactions serialise writers) makes
            # "none this week, so write one" one step for concurrent runs.
            reviewer = Reviewer.objects.select_for_update().filter(pk=reviewer_id).exclude(email="").first()
            if reviewer is None:
                continue
            if reviewer.reminders.filter(created_at__gt=now - REMINDER_EVERY).exists():
                continue
            reminder = ReviewReminder.objects.create(reviewer=reviewer, to_email=reviewer.email, next_attempt_at=now)
            transaction.on_commit(lambda pk=reminder.pk: enqueue_reminder(pk))
            written += 1
    return written


def enqueue_reminder(reminder_id, *, run_after=None):
    from .tasks import send_review_reminder

    task = send_review_reminder
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return None  # requeue_due_reminders picks it up later
        task = task.using(run_after=run_after)
    return task.enqueue(reminder_id)


def requeue_due_reminders(*, now=None, grace=timedelta(minutes=10)):
    """Queue reminders whose task went missing (a crash after commit); the claim stops double sends."""
    now = now or timezone.now()
    due = ReviewReminder.objects.filter(UNDELIVERED, next_attempt_at__lte=now - grace).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    ids = list(due.values_list("pk", flat=True)[:1000])
    for reminder_id in ids:
        enqueue_reminder(reminder_id)
    return len(ids)


def retry_delay(attempts):
    return min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_MAX_DELAY)


def build_digest(reviewer, overdue, due_soon):
    """(subject, text) of the digest email."""

    def lines(entries):
        return [
            {
                "title": entry.article.title,
                "due_on": entry.due_on,
                "last_reviewed_on": entry.last_reviewed_on,
                "record_url": settings.SITE_URL
                + reverse("admin:articles_article_record_review", args=[entry.article.pk]),
                "page_url": settings.SITE_URL + entry.article.get_absolute_url(),
            }
            for entry in entries
        ]

    context = {
        "reviewer": reviewer,
        "overdue": lines(overdue),
        "due_soon": lines(due_soon),
        "site_name": settings.SITE_NAME,
        "queue_url": settings.SITE_URL + reverse("admin:articles_article_review_queue"),
    }
    subject = f"{settings.SITE_NAME}: {len(overdue)} article(s) overdue, {len(due_soon)} due soon for medical review"
    return subject, render_to_string("articles/emails/review_reminder.txt", context)


def _claim(reminder_id, now):
    return (
        ReviewReminder.objects.filter(UNDELIVERED, pk=reminder_id, next_attempt_at__lte=now + CLOCK_MARGIN)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM_DURATION)
    )


def deliver_reminder(*, reminder_id, connection=None):
    """Send one reminder; returns "sent", "skipped", "busy", "bounced" or "failed". Never raises for SMTP."""
    now = timezone.now()
    if not _claim(reminder_id, now):
        return "busy"
    reminder = ReviewReminder.objects.select_related("reviewer").filter(pk=reminder_id).first()
    if reminder is None:
        return "busy"
    overdue, due_soon = due_by_reviewer(today=timezone.localdate(now)).get(reminder.reviewer_id, ([], []))
    if not (overdue or due_soon):
        ReviewReminder.objects.filter(pk=reminder_id).update(
            skipped_reason="nothing due any more", claimed_until=None, next_attempt_at=None
        )
        return "skipped"
    subject, text = build_digest(reminder.reviewer, overdue, due_soon)
    message = EmailMessage(
        subject,
        text,
        to=[reminder.to_email],
        connection=connection or get_connection(),
        # On the site's own domain (SITE_URL's host), like the protocols' emails.
        headers={"Message-ID": make_msgid(domain=urlsplit(settings.SITE_URL).hostname)},
    )
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP refusals, timeouts, DNS
        return _record_failure(reminder, exc, now)
    ReviewReminder.objects.filter(pk=reminder_id).update(
        sent_at=timezone.now(),
        last_attempt_at=now,
        attempts=reminder.attempts + 1,
        claimed_until=None,
        next_attempt_at=None,
        subject=subject,
        text_body=text,
    )
    logger.info("review reminder %s sent to reviewer %s", reminder_id, reminder.reviewer_id)
    return "sent"


def _record_failure(reminder, exc, now):
    attempts = reminder.attempts + 1
    error = f"{type(exc).__name__}: {exc}"[:2000]
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = min((c for c, _ in exc.recipients.values()), default=None)
    permanent = code is not None and 500 <= code < 600
    gave_up = permanent or attempts >= MAX_ATTEMPTS
    next_attempt_at = None if gave_up else timezone.now() + retry_delay(attempts)
    with transaction.atomic():
        ReviewReminder.objects.filter(pk=reminder.pk).update(
            attempts=attempts,
            last_error=error,
            last_attempt_at=now,
            next_attempt_at=next_attempt_at,
            gave_up_at=now if gave_up else None,
            claimed_until=None,
        )
        if not gave_up:
            enqueue_reminder(reminder.pk, run_after=next_attempt_at)
    logger.warning(
        "review reminder %s failed (attempt %s%s): %s", reminder.pk, attempts, ", giving up" if gave_up else "", error
    )
    return "bounced" if permanent else "failed"
