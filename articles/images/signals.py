"""A deleted library image takes its files with it, once the delete has committed."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from articles.models import Image

from .services import delete_image_files


@receiver(post_delete, sender=Image, dispatch_uid="image_files_deleted")
def delete_files_after_delete(sender, instance, using=None, **kwargs):
    transaction.on_commit(partial(delete_image_files, instance.stored_names()), using=using)
