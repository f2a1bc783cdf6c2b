"""Media files in the embedded setup (files on local disk): every stored name carries a
content hash, so every file is served as immutable. In production nginx serves /media/
with the same header (docs/operations.md); with S3 the bucket does."""

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

SERVED_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp", ".avif": "image/avif"}


@require_safe
def serve_media(request, name):
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    content_type = SERVED_TYPES.get(extension)
    if content_type is None:
        raise Http404("Not a media file.")
    try:
        path = default_storage.path(name)
        handle = open(path, "rb")  # noqa: SIM115 (FileResponse closes it)
    except (SuspiciousFileOperation, FileNotFoundError, IsADirectoryError, NotImplementedError) as error:
        raise Http404("No such file.") from error
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = settings.MEDIA_CACHE_CONTROL
    return response
