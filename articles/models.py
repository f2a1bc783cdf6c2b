from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

from .markdown import render_markdown

WORDS_PER_MINUTE = 230


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """The one definition of what the public may see."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())


class Author(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    credentials = models.CharField(
        max_length=120, blank=True, help_text="Shown after the name, e.g. “MSc, Registered Dietitian”."
    )
    bio = models.TextField(blank=True, help_text="One or two sentences shown under the byline.")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="author_profile",
        help_text="The staff account that writes as this author, if any.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class TaggedArticle(TaggedItemBase):
    """Tags through a direct foreign key: cheaper joins than taggit's generic relation."""

    content_object = models.ForeignKey("Article", on_delete=models.CASCADE, related_name="tagged_items")

    class Meta:
        verbose_name = "article tag"
        verbose_name_plural = "article tags"
        constraints = [models.UniqueConstraint(fields=["content_object", "tag"], name="unique_article_tag")]


class HistoricalArticleSnapshot(models.Model):
    """Extra columns on each saved version: the tags and references as they were."""

    tag_names = models.JSONField(default=list, blank=True)
    references_snapshot = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=200, unique=True, help_text="The article's address: /articles/<slug>/. Keep it once published."
    )
    summary = models.CharField(
        max_length=300,
        help_text="One or two sentences under the title; also the page's meta description.",
    )
    body = models.TextField(help_text="Markdown. Use “## Heading” for sections; they form the table of contents.")
    body_html = models.TextField(editable=False, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="Publication time. A future time schedules the article: it stays hidden until then.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles")
    reviewed_by = models.CharField(
        max_length=200,
        blank=True,
        help_text="Medical reviewer's name and credentials. Leave empty until a real review took place.",
    )
    reviewed_at = models.DateField(null=True, blank=True, help_text="Date of the medical review.")

    tags = TaggableManager(
        through=TaggedArticle,
        blank=True,
        help_text="Separate tags with commas, e.g. “magnesium, leg cramps”.",
    )
    history = HistoricalRecords(bases=[HistoricalArticleSnapshot], excluded_fields=["body_html"])

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["status", "-published_at"], name="article_public_idx")]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.body_html = render_markdown(self.body)
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "body" in update_fields:
            kwargs["update_fields"] = {*update_fields, "body_html"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:detail", kwargs={"slug": self.slug})

    @property
    def is_published(self):
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def is_scheduled(self):
        return self.status == self.Status.PUBLISHED and self.published_at is not None and not self.is_published

    @property
    def reading_minutes(self):
        return max(1, round(len(self.body.split()) / WORDS_PER_MINUTE))


class Reference(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="references")
    position = models.PositiveIntegerField(default=0, help_text="Order in the list; lower comes first.")
    title = models.CharField(max_length=300)
    url = models.URLField(max_length=500)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.title
