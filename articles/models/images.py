"""The image library: one row per uploaded image, its renditions listed on the row."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

FOCAL_RANGE = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class ImageQuerySet(models.QuerySet):
    def used_by_articles(self, image):
        """Articles that show `image`: as their hero, or as `![...](image:ID)` in the body."""
        from .articles import Article

        marker = f"(image:{image.pk})"
        return Article.objects.filter(models.Q(hero_image=image) | models.Q(body__contains=marker)).order_by("title")


class Image(models.Model):
    """An uploaded picture, re-encoded without metadata; renditions are made by the worker."""

    file = models.FileField(
        max_length=255,
        help_text="JPEG, PNG, WebP or AVIF. GPS position, camera and owner data are removed on upload.",
    )
    alt_text = models.CharField(
        max_length=250,
        help_text="What the image shows, for readers who cannot see it. Not a caption: describe, do not repeat the "
        "caption.",
    )
    caption = models.CharField(max_length=300, blank=True, help_text="Shown under the image in articles (optional).")
    credit = models.CharField(
        max_length=200, help_text="Photographer or source, and the licence, e.g. “Jane Doe / CC BY 4.0”."
    )
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    focal_x = models.FloatField(
        "focal point (x)",
        default=0.5,
        validators=FOCAL_RANGE,
        help_text="0 is the left edge, 1 the right. Crops (social cards) keep this point in view.",
    )
    focal_y = models.FloatField(
        "focal point (y)", default=0.5, validators=FOCAL_RANGE, help_text="0 is the top edge, 1 the bottom."
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # Made by the worker (articles.images.tasks): [{"format", "width", "height", "name"}, ...]
    # for `renditions_of`, the file name they were made from.
    renditions = models.JSONField(default=list, blank=True, editable=False)
    renditions_of = models.CharField(max_length=255, blank=True, editable=False)
    # The 1200x630 og:image crop and the focal point it was cut around.
    social_name = models.CharField(max_length=255, blank=True, editable=False)
    social_focal = models.CharField(max_length=40, blank=True, editable=False)

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return self.alt_text[:80] or self.file.name

    @property
    def focal_key(self):
        return f"{self.focal_x:.4f},{self.focal_y:.4f}"

    def stored_names(self):
        """Every file stored for this image: the original, its renditions, its crop."""
        names = [self.file.name, self.social_name, *(r["name"] for r in self.renditions)]
        return [name for name in names if name]

    @property
    def renditions_ready(self):
        return bool(self.renditions) and self.renditions_of == self.file.name
