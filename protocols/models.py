"""Protocols (programs readers join by email), their steps, signups and the email outbox."""

import functools
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.markdown import render_markdown

from .rendering import render_step_body


def default_time_zone():
    return settings.TIME_ZONE


def validate_time_zone(value):
    """An IANA zone name such as "Europe/Paris"."""
    if value not in available_time_zones():
        raise ValidationError("Choose a time zone from the list, such as “Europe/London”.", code="invalid")


@functools.cache
def available_time_zones():
    return frozenset(zoneinfo.available_timezones() | {"UTC"})


def validate_single_line(value):
    if any(ch in value for ch in "\r\n\0"):
        raise ValidationError("Write the subject on one line.", code="invalid")


class ProtocolQuerySet(models.QuerySet):
    def listed(self):
        """Open and upcoming protocols: the ones readers can join or wait for."""
        return self.filter(status__in=[Protocol.Status.OPEN, Protocol.Status.UPCOMING])

    def for_banner(self):
        """The newest announced open protocol comes first."""
        return self.filter(status=Protocol.Status.OPEN, announce=True).order_by(
            models.F("launched_at").desc(nulls_last=True), "-pk"
        )


class Protocol(models.Model):
    class Status(models.TextChoices):
        UPCOMING = "upcoming", "Upcoming (waitlist)"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    name = models.CharField(max_length=120, help_text="Shown as written, e.g. “Sleep Protocol”.")
    slug = models.SlugField(
        max_length=120, unique=True, help_text="The end of the page's address, as in /protocols/sleep-protocol/."
    )
    tagline = models.CharField(max_length=200, help_text="One sentence under the name, also the meta description.")
    description = models.TextField(help_text="Markdown. What the protocol is for and how it is delivered.")
    description_html = models.TextField(editable=False, blank=True)
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.UPCOMING,
        db_index=True,
        help_text="Open takes signups; upcoming takes waitlist signups; closed takes none.",
    )
    launched_at = models.DateTimeField(
        null=True, blank=True, help_text="When it opened. The banner shows the newest announced open protocol."
    )
    announce = models.BooleanField(default=False, help_text="Show in the banner on every page while open.")
    consent_text = models.TextField(
        validators=[MaxLengthValidator(1000)],
        help_text="What subscribers agree to: shown next to the checkbox and stored with each signup.",
    )
    send_hour = models.PositiveSmallIntegerField(
        default=8,
        validators=[MaxValueValidator(23)],
        help_text="Hour of the day (0-23) when steps delayed by whole days go out, in the subscriber's time zone.",
    )
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text="IANA time zone for the send hour, e.g. “Europe/London”, until a subscriber chooses their own.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProtocolQuerySet.as_manager()

    class Meta:
        ordering = ["-launched_at", "name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Render once: pages serve the stored, sanitised HTML.
        self.description_html = render_markdown(self.description)
        if self.status == self.Status.OPEN and self.launched_at is None:
            self.launched_at = timezone.now()
        super().save(*args, **kwargs)
        self._loaded_status = self.status

    def get_absolute_url(self):
        return reverse("protocols:detail", kwargs={"slug": self.slug})

    @property
    def accepts_signups(self):
        return self.status in {self.Status.OPEN, self.Status.UPCOMING}

    @property
    def is_waitlist(self):
        return self.status == self.Status.UPCOMING

    @property
    def zone(self):
        return zoneinfo.ZoneInfo(self.time_zone)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # Remembered to tell an opening (upcoming -> open) from other saves.
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    @property
    def just_opened(self):
        """Saved as open while it was loaded with another status (the waitlist starts)."""
        return self.status == self.Status.OPEN and getattr(self, "_loaded_status", None) not in (None, self.status)


class Step(models.Model):
    """One email of a protocol's program, sent in `position` order."""

    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(
        help_text="Order in the program. A step added after a subscriber's place reaches them in turn."
    )
    subject = models.CharField(max_length=150, validators=[validate_single_line])
    body = models.TextField(
        help_text="Markdown. Links to site paths such as /articles/<slug>/ become full addresses in the email."
    )
    body_html = models.TextField(editable=False, blank=True)
    delay_days = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(365)],
        help_text=(
            "0: right after the previous email (the first one: at confirmation). "
            "1 or more: at the protocol's send hour, that many days after the previous email."
        ),
    )
    # Set on steps created by `seed_content`, so a step once seeded is never created again.
    seed_key = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["body_html"])

    class Meta:
        ordering = ["protocol", "position", "pk"]
        indexes = [models.Index(fields=["protocol", "position"], name="protocols_step_order")]

    def __str__(self):
        return f"{self.position}. {self.subject}"

    def save(self, *args, **kwargs):
        # Render once: every email of this step sends the stored, sanitised HTML.
        self.body_html = render_step_body(self.body)
        super().save(*args, **kwargs)


class Signup(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending confirmation"
        CONFIRMED = "confirmed", "Confirmed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="signups")
    email = models.EmailField(max_length=254, help_text="Stored trimmed, with the domain lower-cased.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    consent_text = models.TextField(help_text="The consent wording the subscriber agreed to.")
    consented_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last confirmation email was queued (limits resends)."
    )
    # The program: progress is the position of the last step sent, so a reordering never
    # resends a step and a step added before that position never back-fills.
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_default="",
        validators=[validate_time_zone],
        help_text="Empty: the protocol's time zone.",
    )
    program_started_at = models.DateTimeField(
        null=True, blank=True, help_text="When the subscriber entered the program (confirmation, or the opening)."
    )
    last_position_sent = models.PositiveIntegerField(default=0, db_default=0)
    last_step_sent_at = models.DateTimeField(null=True, blank=True)
    next_step_due_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty while a step is on its way, when paused or completed."
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Case-insensitive in the database itself, so two concurrent requests with
            # "Ann@x.org" and "ann@x.org" cannot both insert.
            models.UniqueConstraint(Lower("email"), "protocol", name="protocols_signup_unique_email_per_protocol"),
        ]
        indexes = [
            # The scheduler's query: only subscribers waiting for a step are in this index.
            models.Index(
                fields=["next_step_due_at"],
                name="protocols_signup_due",
                condition=Q(status="confirmed", paused_at__isnull=True, next_step_due_at__isnull=False),
            ),
        ]
        permissions = [("export_signups", "Can export signups as CSV")]

    def __str__(self):
        return f"{self.email} ({self.protocol})"

    @property
    def zone(self):
        return zoneinfo.ZoneInfo(self.time_zone) if self.time_zone else self.protocol.zone

    @property
    def in_program(self):
        return self.status == self.Status.CONFIRMED and self.program_started_at is not None


class BouncedAddress(models.Model):
    """An address the mail server refused permanently (SMTP 5xx): no program emails go to it."""

    email = models.EmailField(max_length=254)
    bounced_at = models.DateTimeField()
    reason = models.TextField(blank=True, help_text="The mail server's answer.")

    class Meta:
        ordering = ["-bounced_at"]
        verbose_name = "bounced address"
        verbose_name_plural = "bounced addresses"
        constraints = [models.UniqueConstraint(Lower("email"), name="protocols_bounced_unique_email")]

    def __str__(self):
        return self.email


class EmailDelivery(models.Model):
    """One email to send: written in the same transaction as the change that needs it.

    The task that sends it records each failure here and retries with backoff, so an SMTP
    outage delays emails but loses none; staff see undelivered ones in the admin.
    """

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Confirmation request"
        STEP = "step", "Program step"

    signup = models.ForeignKey(Signup, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CONFIRMATION)
    step = models.ForeignKey(Step, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries")
    # The step's position when it was scheduled: the funnel still counts it after the step is deleted.
    step_position = models.PositiveIntegerField(null=True, blank=True)
    to_email = models.EmailField(max_length=254)
    # What was sent, exactly (filled when the server accepts it).
    subject = models.CharField(max_length=200, blank=True)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="A worker is sending it until then.")
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    skipped_reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "email delivery"
        verbose_name_plural = "email deliveries"
        constraints = [
            # One delivery per subscriber and step, ever: several schedulers at once, a crash
            # mid-pass or a pass run twice cannot send a step twice. A skipped delivery (paused,
            # unsubscribed, bounced) was never sent and does not count.
            models.UniqueConstraint(
                fields=["signup", "step"],
                condition=Q(step__isnull=False, skipped_reason=""),
                name="protocols_delivery_once_per_step",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.to_email}"

    @property
    def is_done(self):
        return bool(self.sent_at or self.skipped_reason)


class RateLimitCounter(models.Model):
    """A fixed-window counter shared by every worker and app server using this database."""

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.key}: {self.count}"


class AuditEvent(models.Model):
    """What staff did with subscribers' data: exports and changes (read-only, for superusers)."""

    class Action(models.TextChoices):
        EXPORT = "export", "Exported signups"
        RESEND = "resend", "Resent confirmations"
        RETRY = "retry", "Retried deliveries"
        LIFT = "lift", "Lifted bounced addresses"
        CHANGE = "change", "Changed a signup"
        DELETE = "delete", "Deleted signups"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Kept as text too: the entry outlives the account.
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=10, choices=Action.choices)
    rows = models.PositiveIntegerField(help_text="How many records the action touched.")
    details = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.username}: {self.get_action_display()} ({self.rows})"
