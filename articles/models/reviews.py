"""Medical reviewers, their reviews of articles, and the outbox of reminder emails to them."""

from django.db import models
from django.urls import reverse


class Reviewer(models.Model):
    """A qualified person who checks articles. Public page: /reviewers/<slug>/ (never the email)."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    credentials = models.CharField(
        max_length=200, blank=True, help_text="Shown after the name, e.g. “MD, board-certified in family medicine”."
    )
    bio = models.TextField(blank=True, help_text="Shown on the reviewer's page.")
    email = models.EmailField(
        blank=True, help_text="Where review reminders go. Never shown on the site. Empty: no reminders."
    )
    photo = models.ForeignKey(
        "articles.Image",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviewer_photos",
        help_text="Optional: a portrait from the image library, shown on the reviewer's page.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}, {self.credentials}" if self.credentials else self.name

    def get_absolute_url(self):
        return reverse("articles:reviewer", kwargs={"slug": self.slug})


class ReviewQuerySet(models.QuerySet):
    def approved(self):
        """Approved reviews, newest first: the first one is what the article page shows."""
        return self.filter(outcome=Review.Outcome.APPROVED).order_by("-reviewed_on", "-id")


class Review(models.Model):
    """One medical review of an article. Recording one makes a new version of the article."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    article = models.ForeignKey("Article", on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        Reviewer,
        null=True,  # only for reviews carried over from the old free-text field without a name
        blank=False,
        on_delete=models.PROTECT,
        related_name="reviews",
    )
    reviewed_on = models.DateField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.APPROVED)
    notes = models.TextField(blank=True, help_text="For staff only; never shown on the site.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-reviewed_on", "-id"]
        indexes = [models.Index(fields=["article", "outcome", "-reviewed_on"], name="review_latest_idx")]

    def __str__(self):
        who = self.reviewer.name if self.reviewer_id else "unknown reviewer"
        return f"{self.get_outcome_display()} by {who} on {self.reviewed_on:%Y-%m-%d}"

    def as_snapshot(self):
        """The shape kept in each article version's reviews_snapshot."""
        return {
            "reviewer": self.reviewer.name if self.reviewer_id else "",
            "reviewed_on": self.reviewed_on.isoformat(),
            "outcome": self.outcome,
        }


class ReviewReminder(models.Model):
    """One digest email to a reviewer: the outbox row the worker sends, retries and records.

    Written by `send_review_reminders` (at most one a week per reviewer); the text is built
    when it is sent, from the articles due at that moment.
    """

    reviewer = models.ForeignKey(Reviewer, on_delete=models.CASCADE, related_name="reminders")
    to_email = models.EmailField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    text_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="A worker is sending it until then.")
    sent_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    skipped_reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "review reminder"

    def __str__(self):
        return f"Review reminder to {self.to_email}"
