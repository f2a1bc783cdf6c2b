"""Hostile-upload checks and the re-encoded original.

An upload is refused unless it is one whole JPEG, PNG, WebP or AVIF image within the size
and pixel limits, with nothing before or after it. What is stored is never the uploaded
bytes: the pixels are decoded and encoded again, orientation applied, metadata dropped
(GPS, camera, owner), the colour profile kept.
"""

import hashlib
import io
import re
import struct
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

OPENED_FORMATS = ["JPEG", "PNG", "WEBP", "AVIF"]
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "AVIF": "avif"}
# Markup or script inside an image file: a browser sniffing it (or a careless proxy) could run it.
# Long enough not to turn up by chance in compressed pixels (a 4-byte "<svg" would in about
# one 5 MB photo in a hundred).
_ACTIVE_CONTENT = re.compile(
    rb"<(?:script|html|body|svg|iframe|object|embed)[\s/>]|<\?php|<!doctype\s+html|javascript:", re.IGNORECASE
)
_PNG_END = b"IEND\xaeB`\x82"
# Bytes some encoders leave after the end marker; anything else there is refused.
_PADDING = b"\x00\r\n\t "


@dataclass(frozen=True)
class CleanImage:
    """A re-encoded original ready to store."""

    content: ContentFile
    width: int
    height: int
    format: str


def max_upload_bytes():
    return settings.IMAGE_MAX_UPLOAD_MB * 1024 * 1024


def clean_upload(upload):
    """Check `upload` (a Django UploadedFile) and return the re-encoded original, or raise ValidationError."""
    limit = max_upload_bytes()
    # .size comes from the upload handler: nothing is read into memory for an oversized file.
    if upload.size is None or upload.size > limit:
        size_mb = (upload.size or 0) / (1024 * 1024)
        raise ValidationError(
            f"The file is {size_mb:.1f} MB; the limit is {settings.IMAGE_MAX_UPLOAD_MB} MB. "
            "Export a smaller JPEG (about 2,500 pixels wide is plenty).",
            code="too_large",
        )
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(f"The file is larger than {settings.IMAGE_MAX_UPLOAD_MB} MB.", code="too_large")
    if _ACTIVE_CONTENT.search(data):
        raise ValidationError(
            "The file contains web page or script code (HTML, SVG or JavaScript) and was refused. "
            "Upload a plain JPEG, PNG, WebP or AVIF exported from an image editor.",
            code="active_content",
        )
    image = _open(data)
    end = _image_end(image.format, data)
    if end is None or data[end:].strip(_PADDING):
        raise ValidationError(
            "The file has extra data after the end of the image and was refused. "
            "Export it again from an image editor.",
            code="trailing_data",
        )
    try:
        return _reencode(image)
    except Exception as error:
        raise ValidationError(
            "The image could not be converted (an unusual colour format?). Export it as an ordinary RGB JPEG or PNG.",
            code="not_convertible",
        ) from error


def _open(data):
    """Pillow opens only the allowed formats, checks dimensions before decoding, then decodes."""
    not_an_image = ValidationError(
        "This is not a JPEG, PNG, WebP or AVIF image (SVG and other formats are not accepted).",
        code="not_an_image",
    )
    with warnings.catch_warnings():
        # Pillow only warns between its limit and twice it: refuse those too.
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            image = PILImage.open(io.BytesIO(data), formats=OPENED_FORMATS)
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as error:
            raise _too_many_pixels(None) from error
        except UnidentifiedImageError as error:
            raise not_an_image from error
        except Exception as error:
            # Pillow's decoders raise many kinds of error on hostile bytes (AVIF: RuntimeError).
            raise not_an_image from error
        width, height = image.size
        if width < 1 or height < 1 or width * height > settings.IMAGE_MAX_PIXELS:
            raise _too_many_pixels(image.size)
        try:
            image.load()
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as error:
            raise _too_many_pixels(image.size) from error
        except Exception as error:
            raise ValidationError(
                "The image is damaged or incomplete (the file may be truncated). Upload it again.", code="truncated"
            ) from error
    return image


def _too_many_pixels(size):
    limit = f"{settings.IMAGE_MAX_PIXELS / 1_000_000:g} million"
    shown = f" ({size[0]:,} x {size[1]:,})" if size else ""
    return ValidationError(
        f"The image has too many pixels{shown}; the limit is {limit}. Resize it (about 2,500 pixels wide is plenty).",
        code="too_many_pixels",
    )


def _image_end(image_format, data):
    """Offset just past the image's own data in `data`, or None when the structure is broken."""
    if image_format == "JPEG":
        end = data.rstrip(_PADDING).rfind(b"\xff\xd9")
        return None if end < 0 else end + 2
    if image_format == "PNG":
        end = data.find(_PNG_END)
        return None if end < 0 else end + len(_PNG_END)
    if image_format == "WEBP":
        (riff_size,) = struct.unpack("<I", data[4:8])
        end = 8 + riff_size + (riff_size & 1)
        return end if end <= len(data) else None
    if image_format == "AVIF":
        return _bmff_end(data)
    return None


def _bmff_end(data):
    """End of the last top-level ISO-BMFF box (AVIF's container)."""
    offset = 0
    while offset + 8 <= len(data):
        (size,) = struct.unpack(">I", data[offset : offset + 4])
        if size == 1:
            if offset + 16 > len(data):
                return None
            (size,) = struct.unpack(">Q", data[offset + 8 : offset + 16])
        elif size == 0:
            return len(data)
        if size < 8 or offset + size > len(data):
            # A box that does not fit: either padding after the image or a broken file.
            return offset if not data[offset:].strip(_PADDING) else None
        offset += size
    return offset


def _reencode(image):
    """Orientation applied, metadata dropped, colour profile kept; same format as uploaded."""
    image_format = image.format
    icc_profile = image.info.get("icc_profile")
    upright = ImageOps.exif_transpose(image)
    if upright.mode not in {"RGB", "RGBA", "L", "LA", "P"}:
        has_alpha = "A" in upright.getbands() or "transparency" in upright.info
        if upright.mode == "CMYK":
            icc_profile = None  # a CMYK profile does not describe the converted RGB pixels
        upright = upright.convert("RGBA" if has_alpha else "RGB")
    transparency = upright.info.get("transparency")
    # Nothing of the uploaded file's metadata travels through .info into the new file.
    upright.info = {}
    options = {"icc_profile": icc_profile} if icc_profile else {}
    if image_format == "JPEG":
        if upright.mode not in {"RGB", "L"}:
            upright = upright.convert("RGB")
        options.update(quality=90, optimize=True, progressive=True)
    elif image_format == "PNG":
        options.update(optimize=True)
        if transparency is not None:
            options["transparency"] = transparency
    elif image_format == "WEBP":
        options.update(quality=90, method=4)
    elif image_format == "AVIF":
        options.update(quality=80, speed=6)
    buffer = io.BytesIO()
    upright.save(buffer, format=image_format, exif=b"", **options)
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest()[:20]
    name = f"images/originals/{digest}.{EXTENSIONS[image_format]}"
    return CleanImage(
        content=ContentFile(payload, name=name), width=upright.width, height=upright.height, format=image_format
    )
