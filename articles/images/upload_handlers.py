"""Uploads larger than IMAGE_MAX_UPLOAD_MB are never stored, not even in a temporary file.

First in FILE_UPLOAD_HANDLERS: it passes chunks on to Django's handlers (memory, then a
temporary file) until the limit, then swallows the rest and hands the form an empty file that
knows its real size, so the form says how large the file was instead of failing on a full disk.
"""

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class OversizedUpload(UploadedFile):
    """What the form gets for a file over the limit: its name and size, no content."""

    def __init__(self, name, content_type, size):
        import io

        super().__init__(io.BytesIO(), name, content_type, size)


class SizeLimitUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.limit = settings.IMAGE_MAX_UPLOAD_MB * 1024 * 1024
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        if self.too_large or start + len(raw_data) > self.limit:
            self.too_large = True
            return None  # the handlers after this one never see the rest
        return raw_data

    def file_complete(self, file_size):
        if self.too_large:
            return OversizedUpload(self.file_name, self.content_type, file_size)
        return None  # the next handler completes the file
