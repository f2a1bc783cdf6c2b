"""Protocols (programs readers join by email), their signups and the email outbox."""

from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from articles.markdown import render_markdown


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

    def get_absolute_url(self):
        return reverse("protocols:detail", kwargs={"slug": self.slug})

    @property
    def accepts_signups(self):
        return self.status in {self.Status.OPEN, self.Status.UPCOMING}

    @property
    def is_waitlist(self):
        return self.status == self.Status.UPCOMING


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

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Case-insensitive in the database itself, so two concurrent requests with
            # "Ann@x.org" and "ann@x.org" cannot both insert.
            models.UniqueConstraint(Lower("email"), "protocol", name="protocols_signup_unique_email_per_protocol"),
        ]
        permissions = [("export_signups", "Can export signups as CSV")]

    def __str__(self):
        return f"{self.email} ({self.protocol})"


class EmailDelivery(models.Model):
    """One email to send: written in the same transaction as the change that needs it.

    The task that sends it records each failure here and retries with backoff, so an SMTP
    outage delays emails but loses none; staff see undelivered ones in the admin.
    """

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Confirmation request"

    signup = models.ForeignKey(Signup, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CONFIRMATION)
    to_email = models.EmailField(max_length=254)
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
