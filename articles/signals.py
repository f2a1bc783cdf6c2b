"""Keep each saved version's tags and references in step with the article, and every
tag linkable."""

import secrets

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record
from taggit.models import Tag

from .models import Article, Reference, Review, TaggedArticle


@receiver(pre_create_historical_record, sender=Article.history.model)
def snapshot_on_version(sender, instance, history_instance, **kwargs):
    """Every new version starts with the tags and references stored at that moment."""
    if instance.pk is None:
        return
    if history_instance.history_type == "-":
        # Deleting: tags and references are already gone; keep what the last version had.
        previous = instance.history.order_by("-history_date", "-history_id").first()
        snapshot = {
            field: getattr(previous, field) if previous else []
            for field in ("tag_names", "references_snapshot", "reviews_snapshot")
        }
    else:
        snapshot = instance.snapshot()
    for field, value in snapshot.items():
        setattr(history_instance, field, value)


@receiver(m2m_changed, sender=TaggedArticle)
def snapshot_after_tag_change(sender, instance, action, **kwargs):
    if action in {"post_add", "post_remove", "post_clear"} and isinstance(instance, Article):
        instance.refresh_history_snapshot()


@receiver([post_save, post_delete], sender=Review)
@receiver([post_save, post_delete], sender=Reference)
def snapshot_after_reference_change(sender, instance, origin=None, **kwargs):
    deleting_articles = isinstance(origin, Article) or getattr(origin, "model", None) is Article
    if deleting_articles:
        return  # a cascade: the last version must keep the references it had
    article = Article.objects.filter(pk=instance.article_id).first()
    if article is not None:
        article.refresh_history_snapshot()


@receiver(pre_save, sender=Tag, dispatch_uid="tag_slug_never_empty")
def tag_slug_never_empty(sender, instance, **kwargs):
    """A name with no letter or digit ("???") slugifies to nothing, and a tag without a
    slug has no page to link to. The admin refuses such names; code that adds one gets
    a generated slug."""
    if not instance.slug:
        instance.slug = f"tag-{secrets.token_hex(4)}"
