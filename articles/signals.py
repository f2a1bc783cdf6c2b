"""Keep each saved version's tags and references in step with the article."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from .models import Article, Reference, TaggedArticle


@receiver(pre_create_historical_record, sender=Article.history.model)
def snapshot_on_version(sender, instance, history_instance, **kwargs):
    """Every new version starts with the tags and references stored at that moment."""
    if instance.pk is None:
        return
    for field, value in instance.snapshot().items():
        setattr(history_instance, field, value)


@receiver(m2m_changed, sender=TaggedArticle)
def snapshot_after_tag_change(sender, instance, action, **kwargs):
    if action in {"post_add", "post_remove", "post_clear"} and isinstance(instance, Article):
        instance.refresh_history_snapshot()


@receiver([post_save, post_delete], sender=Reference)
def snapshot_after_reference_change(sender, instance, **kwargs):
    article = Article.objects.filter(pk=instance.article_id).first()
    if article is not None:
        article.refresh_history_snapshot()
