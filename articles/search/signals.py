"""Keep the search index in step with every change, once the change commits.

Saves, deletes and tag changes (the tag field, the through model, a renamed or deleted
tag) queue the article for reindexing on commit. `QuerySet.update()`, `bulk_create()`
and `bulk_update()` send no signals: call `index_articles(ids)` after them, or
run `python manage.py rebuild_search_index`. The admin's bulk actions save each article.
"""

from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save
from django.dispatch import receiver
from taggit.models import Tag

from ..models import Article, TaggedArticle
from .indexing import clear_index_if_articles_gone, reindex_on_commit


@receiver([post_save, post_delete], sender=Article, dispatch_uid="search_article_changed")
def article_changed(sender, instance, **kwargs):
    reindex_on_commit([instance.pk])


@receiver(m2m_changed, sender=TaggedArticle, dispatch_uid="search_tags_changed")
def tags_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in {"post_add", "post_remove", "post_clear", "pre_clear"}:
        return
    if isinstance(instance, Article):
        reindex_on_commit([instance.pk])
    elif action == "pre_clear":
        # Clearing a tag's articles: pk_set is empty, so remember them before they go.
        reindex_on_commit(TaggedArticle.objects.filter(tag=instance).values_list("content_object_id", flat=True))
    elif pk_set:
        reindex_on_commit(pk_set)


@receiver([post_save, post_delete], sender=TaggedArticle, dispatch_uid="search_tagged_item_changed")
def tagged_item_changed(sender, instance, **kwargs):
    reindex_on_commit([instance.content_object_id])


@receiver(post_save, sender=Tag, dispatch_uid="search_tag_renamed")
def tag_renamed(sender, instance, created, **kwargs):
    if not created:
        reindex_on_commit(TaggedArticle.objects.filter(tag=instance).values_list("content_object_id", flat=True))


@receiver(post_migrate, dispatch_uid="search_after_flush")
def clear_after_flush(sender, app_config=None, **kwargs):
    # `flush` (between transactional tests) empties Django's tables and then sends
    # post_migrate; the FTS tables are not Django's, so empty them here.
    if app_config is not None and app_config.name == "articles":
        clear_index_if_articles_gone()
