"""Reviewers, reviews and the editorial settings show on public pages: a change clears the
page cache once it commits (articles themselves are registered in site_config's CONTENT_MODELS)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from site_config.page_cache import bump_content_version

from .models import EditorialSettings, Review, Reviewer


def _bump_on_commit(sender, **kwargs):
    transaction.on_commit(bump_content_version, using=kwargs.get("using"))


for _model in (Reviewer, Review, EditorialSettings):
    post_save.connect(_bump_on_commit, sender=_model, dispatch_uid=f"page-cache-save-{_model._meta.label}")
    post_delete.connect(_bump_on_commit, sender=_model, dispatch_uid=f"page-cache-delete-{_model._meta.label}")
