"""Side effects of the image library: store an upload, queue and make its derived files."""

import logging
from functools import partial

from django.db import transaction

from articles.models import Image

from . import cards, renditions
from .tasks import make_image_files

logger = logging.getLogger(__name__)


def queue_image_files(image):
    """After the transaction commits, have the worker make the image's renditions and crop."""
    transaction.on_commit(partial(make_image_files.enqueue, image.pk))


def needs_files(image):
    return not image.renditions_ready or image.social_focal != image.focal_key or not image.social_name


def update_image_files(*, image_id):
    """Make what is missing or stale for one image; a deleted image is nothing to do.

    The slow part (encoding) runs outside any transaction; the row is then updated only if
    its file and focal point are still the ones the files were made from.
    """
    image = Image.objects.filter(pk=image_id).first()
    if image is None:
        return "deleted"
    made = {}
    if not image.renditions_ready:
        made["renditions"] = renditions.make_renditions(image)
        made["renditions_of"] = image.file.name
    if image.social_focal != image.focal_key or not image.social_name:
        made["social_name"] = cards.make_social_crop(image)
        made["social_focal"] = image.focal_key
    if not made:
        return "up to date"
    with transaction.atomic():
        current = Image.objects.select_for_update().filter(pk=image_id).first()
        if current is None:
            return "deleted"
        if current.file.name != image.file.name or current.focal_key != image.focal_key:
            # Changed while the files were made: the save that changed it queued another run.
            return "stale"
        for field, value in made.items():
            setattr(current, field, value)
        current.save(update_fields=list(made))
    logger.info("image files made", extra={"image": image_id, "files": len(made.get("renditions", []))})
    return "made"


def delete_image_files(names):
    """Remove stored files (each name is used by one image only: originals and renditions are per image)."""
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("image file not deleted", extra={"file": name})
