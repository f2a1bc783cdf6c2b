from django.apps import AppConfig, apps
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save


def _bump_on_commit(sender, **kwargs):
    from .page_cache import bump_content_version

    # After commit, so no worker can re-cache the old content under the new version;
    # a rolled-back change bumps nothing.
    transaction.on_commit(bump_content_version, using=kwargs.get("using"))


class SiteConfigConfig(AppConfig):
    name = "site_config"
    verbose_name = "Site"

    def ready(self):
        from . import checks  # noqa: F401 (registers the system checks)
        from .page_cache import CONTENT_MODELS

        # Looked up lazily by label: an app still being built (or removed) is skipped
        # instead of breaking start-up.
        for label in CONTENT_MODELS:
            try:
                model = apps.get_model(label)
            except LookupError:
                continue
            post_save.connect(_bump_on_commit, sender=model, dispatch_uid=f"page-cache-save-{label}")
            post_delete.connect(_bump_on_commit, sender=model, dispatch_uid=f"page-cache-delete-{label}")
            for field in model._meta.many_to_many:
                through = field.remote_field.through
                if isinstance(through, type):
                    m2m_changed.connect(
                        _bump_on_commit, sender=through, dispatch_uid=f"page-cache-m2m-{label}-{field.name}"
                    )
