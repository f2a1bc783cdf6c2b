"""Editorial settings of the site, edited in the admin: one row."""

from django.db import models

DEFAULT_PRODUCT_DISCLOSURE = (
    "Disclosure: this article mentions products sold by the publisher of this site. "
    "We earn money if you buy them. Our medical reviewers are not paid per product."
)


class EditorialSettings(models.Model):
    """A singleton: `EditorialSettings.load()` returns the one row, creating it with the defaults."""

    product_disclosure = models.TextField(
        default=DEFAULT_PRODUCT_DISCLOSURE,
        help_text="Shown above the body of every article marked “mentions products sold by the publisher”. "
        "Short and plain: readers must see at once that the publisher sells what the article mentions.",
    )

    class Meta:
        verbose_name = "editorial settings"
        verbose_name_plural = "editorial settings"

    def __str__(self):
        return "Editorial settings"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings
