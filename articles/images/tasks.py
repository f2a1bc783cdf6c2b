"""The worker's part: renditions and the social crop, never made during a page request."""

from django_tasks import task


@task()
def make_image_files(image_id):
    """Renditions (when the file changed) and the og:image crop (when the focal point changed)."""
    from .services import update_image_files

    return update_image_files(image_id=image_id)
