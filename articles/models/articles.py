import re

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from simple_history.models import HistoricalRecords
from taggit.managers import TaggableManager
from taggit.models import Tag, TaggedItemBase

from core.markdown import CITE_ID, render_markdown
from core.urls import slug_reverse

from ..citations import citation_link, normalise_doi, normalise_pmid, validate_doi, validate_pmid

WORDS_PER_MINUTE = 230
TEXT_FIELDS = ("title", "summary", "body")  # an edit of these moves "Updated"
_H2 = re.compile(r'<h2 id="([^"]+)">(.*?)</h2>', re.S)


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """The one definition of what the public may see."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())

    def for_listing(self):
        """Everything a card or an article page shows, in a fixed number of queries."""
        return self.select_related("author", "hero_image").prefetch_related(tags_by_name())

    def related_to(self, article, *, limit=3):
        """Articles sharing the most tags with `article`, newest first among equals (one query)."""
        shared_tags = TaggedArticle.objects.filter(content_object=article).values("tag")
        return (
            self.exclude(pk=article.pk)
            .filter(tagged_items__tag__in=shared_tags)
            .annotate(shared_tags=Count("tagged_items"))
            .only("title", "slug", "summary", "published_at")  # what a related-article card shows
            .order_by("-shared_tags", "-published_at", "-id")[:limit]
        )


def tags_by_name():
    """Prefetch of an article's tags in name order, for `Article.tag_list`."""
    return Prefetch("tagged_items", queryset=TaggedArticle.objects.select_related("tag").order_by("tag__name"))


def tags_in_use():
    """Tags on at least one published article, each with `article_count` (published only)."""
    published = Q(articles_taggedarticle_items__content_object__in=Article.objects.published())
    return (
        Tag.objects.annotate(article_count=Count("articles_taggedarticle_items", filter=published))
        .filter(article_count__gt=0)
        .order_by("name")
    )


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

    def get_absolute_url(self):
        return reverse("articles:author", kwargs={"slug": self.slug})


class TaggedArticle(TaggedItemBase):
    """Tags through a direct foreign key: cheaper joins than taggit's generic relation."""

    content_object = models.ForeignKey("Article", on_delete=models.CASCADE, related_name="tagged_items")

    class Meta:
        verbose_name = "article tag"
        verbose_name_plural = "article tags"
        constraints = [models.UniqueConstraint(fields=["content_object", "tag"], name="unique_article_tag")]


class HistoricalArticleSnapshot(models.Model):
    """Extra columns on each saved version: the tags, references and reviews as they were."""

    tag_names = models.JSONField(default=list, blank=True)
    references_snapshot = models.JSONField(default=list, blank=True)
    reviews_snapshot = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=200,
        unique=True,
        help_text="The end of the address, as in /articles/magnesium-and-leg-cramps/. Keep it once published.",
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
    # "Updated" on the page: the last save that changed the text. Saves that change only
    # review data, tags or the status leave it alone (updated_at follows every save).
    text_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles")
    assigned_reviewer = models.ForeignKey(
        "Reviewer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_articles",
        help_text="Who does the next medical review; they get the reminders.",
    )
    review_interval_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="Months between reviews for this article. Empty: the site's default (REVIEW_INTERVAL_MONTHS).",
    )
    hero_image = models.ForeignKey(
        "Image",
        null=True,
        blank=True,
        # An image in use cannot be deleted; the admin names the articles (articles.images.admin).
        on_delete=models.PROTECT,
        related_name="hero_articles",
        help_text="Shown under the title, on cards and as the picture of shared links. Optional.",
    )
    mentions_publisher_products = models.BooleanField(
        "mentions products sold by the publisher",
        default=False,
        help_text="Shows the product disclosure (set in Editorial settings) above the body.",
    )

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
        self.body_html = render_markdown(self.body, library_images=True)
        update_fields = kwargs.get("update_fields")
        if self.text_changed() and (update_fields is None or set(TEXT_FIELDS) & set(update_fields)):
            self.text_updated_at = timezone.now()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "text_updated_at"}
        self._loaded_text = {name: getattr(self, name) for name in TEXT_FIELDS}
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        if update_fields is not None and "body" in update_fields:
            kwargs["update_fields"] = {*kwargs["update_fields"], "body_html"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return slug_reverse("articles:detail", self.slug)

    @classmethod
    def from_db(cls, db, field_names, values):
        article = super().from_db(db, field_names, values)
        article._loaded_text = {name: article.__dict__[name] for name in TEXT_FIELDS if name in article.__dict__}
        return article

    def text_changed(self):
        """Whether the title, summary or body differ from what was loaded (always for a new article)."""
        loaded = getattr(self, "_loaded_text", None)
        if loaded is None or self._state.adding:
            return True
        return any(getattr(self, name) != value for name, value in loaded.items())

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

    @property
    def tag_list(self):
        """Tags in name order; uses the `for_listing()` prefetch (taggit's `.names()` would not)."""
        return [item.tag for item in self.tagged_items.all()]

    def headings(self):
        """(id, text) of each h2 in the rendered body: the table of contents."""
        return [(anchor, strip_tags(text)) for anchor, text in _H2.findall(self.body_html)]

    @property
    def cited_numbers(self):
        """Reference numbers the body cites with [^n] markers (their back links)."""
        return {int(number) for number in CITE_ID.findall(self.body_html)}

    @property
    def last_review(self):
        """The latest approved review (uses the detail view's prefetch when there is one)."""
        reviews = getattr(self, "approved_reviews", None)
        if reviews is None:
            reviews = list(self.reviews.approved().select_related("reviewer__photo")[:1])
        return reviews[0] if reviews else None

    def snapshot(self):
        """Tags, references and reviews as stored now, in the shape kept on each historical version."""
        return {
            "tag_names": sorted(self.tags.names(), key=str.lower),
            "references_snapshot": [ref.as_snapshot() for ref in self.references.all()],
            "reviews_snapshot": [review.as_snapshot() for review in self.reviews.select_related("reviewer")],
        }

    def refresh_history_snapshot(self):
        """Copy the current tags and references onto the newest version.

        The admin saves tags and references after the article row (save_related), and code may
        add tags after `save()`, so the version made by `save()` is completed afterwards.
        """
        latest = self.history.order_by("-history_date", "-history_id").first()
        if latest is not None:
            type(latest).objects.filter(pk=latest.pk).update(**self.snapshot())


class Reference(models.Model):
    """One source, shown as a numbered citation; [^n] in the body points at the n-th."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="references")
    position = models.PositiveIntegerField(default=0, help_text="Order in the list; lower comes first.")
    authors = models.CharField(max_length=500, blank=True, help_text="e.g. “Garrison SR, Korownyk CS, Kolber MR”.")
    title = models.CharField(max_length=300)
    journal = models.CharField("journal or publisher", max_length=300, blank=True)
    year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1500), MaxValueValidator(2200)]
    )
    doi = models.CharField(
        "DOI",
        max_length=200,
        blank=True,
        validators=[validate_doi],
        help_text="e.g. 10.1002/14651858.CD009402.pub3; the link goes to doi.org.",
    )
    pmid = models.CharField(
        "PMID",
        max_length=10,
        blank=True,
        validators=[validate_pmid],
        help_text="PubMed ID, digits only, e.g. 32985218; the link goes to PubMed.",
    )
    url = models.URLField(max_length=500, blank=True, help_text="Used when there is no DOI or PMID.")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.title

    def clean_fields(self, exclude=None):
        # "https://doi.org/10.1000/x", "doi:10.1000/x" and "PMID: 123" are accepted and stored bare.
        self.doi, self.pmid = normalise_doi(self.doi), normalise_pmid(self.pmid)
        super().clean_fields(exclude=exclude)

    @property
    def link(self):
        """doi.org for a DOI, else PubMed for a PMID, else the URL (or "")."""
        return citation_link(doi=self.doi, pmid=self.pmid, url=self.url)

    def as_snapshot(self):
        return {name: getattr(self, name) for name in SNAPSHOT_REFERENCE_FIELDS}


SNAPSHOT_REFERENCE_FIELDS = ("position", "authors", "title", "journal", "year", "doi", "pmid", "url")
