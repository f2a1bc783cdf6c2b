"""What makes public pages stale: each app registers its models in ``AppConfig.ready()``.

    from site_config import page_cache

    page_cache.register(Article, publish_at="published_at")
    page_cache.register(Reference)

A save or delete of a registered model, or a change to one of its many-to-many fields,
bumps the content version once the transaction commits. ``publish_at`` names a field that
makes an object public later without any save (a scheduled article): no stored page
outlives the soonest such time.
"""

import time

from django.db import transaction
from django.db.models import Min
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from . import store

NEXT_BOUNDARY_KEY = "page-cache:next-publish:{version}"

# model class -> name of its "public from" field, or None
_registry = {}


def register(model, *, publish_at=None):
    """Changes to ``model`` are visible on public pages: bump the content version on commit."""
    if publish_at is not None:
        model._meta.get_field(publish_at)  # fail at start-up on a typo, not at the first store
    _registry[model] = publish_at
    label = model._meta.label
    post_save.connect(_bump_on_commit, sender=model, dispatch_uid=f"page-cache-save-{label}")
    post_delete.connect(_bump_on_commit, sender=model, dispatch_uid=f"page-cache-delete-{label}")
    for field in model._meta.many_to_many:
        through = field.remote_field.through
        if isinstance(through, type):
            m2m_changed.connect(_bump_on_commit, sender=through, dispatch_uid=f"page-cache-m2m-{label}-{field.name}")


def registered_models():
    """The registered models and their ``publish_at`` fields (a copy)."""
    return dict(_registry)


def _bump_on_commit(sender, **kwargs):
    # After commit, so no worker can re-cache the old content under the new version;
    # a rolled-back change bumps nothing.
    transaction.on_commit(store.bump_content_version, using=kwargs.get("using"))


def next_publish_boundary(version):
    """Unix time at which a scheduled object becomes public, or None (cached per version)."""
    cache = store.cache()
    key = NEXT_BOUNDARY_KEY.format(version=version)
    cached = cache.get(key)
    now = time.time()
    if cached is not None and (cached == 0 or cached > now):
        return cached or None
    boundary = None
    for model, field in _registry.items():
        if not field:
            continue
        # Any future time counts, drafts included: capping too often is harmless.
        soonest = model._default_manager.filter(**{f"{field}__gt": timezone.now()}).aggregate(t=Min(field))["t"]
        if soonest is not None:
            ts = soonest.timestamp()
            boundary = ts if boundary is None else min(boundary, ts)
    cache.set(key, boundary or 0, store.page_timeout())
    return boundary


def entry_timeout(version):
    """Seconds a page or fragment stored now under `version` may live: the page timeout, and
    never past the next scheduled publication (that object goes public then)."""
    timeout = store.page_timeout()
    boundary = next_publish_boundary(version)
    if boundary is not None:
        timeout = min(timeout, int(boundary - time.time()))
    return timeout
