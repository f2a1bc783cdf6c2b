"""Renditions: fixed widths in AVIF, WebP and JPEG, made by the worker, named by content hash.

Pages read only `Image.renditions` (a list on the row, so a card or an article costs no
extra query); until the worker has filled it they use the re-encoded original.
"""

import hashlib
import io

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image as PILImage

WIDTHS = (480, 800, 1200, 1600)
# Best first: the order of the <source> elements.
FORMATS = ("avif", "webp", "jpeg")
MIME_TYPES = {"avif": "image/avif", "webp": "image/webp", "jpeg": "image/jpeg"}
EXTENSIONS = {"avif": "avif", "webp": "webp", "jpeg": "jpg"}
# Quality per format, chosen for similar perceived quality at a fraction of the bytes.
ENCODE_OPTIONS = {
    "avif": {"quality": 55, "speed": 8},
    "webp": {"quality": 78, "method": 4},
    "jpeg": {"quality": 80, "optimize": True, "progressive": True},
}
CARD_WIDTH = 480  # the small rendition on article cards


def widths_for(original_width):
    """The fixed widths not above the original; a narrow original keeps its own width."""
    widths = [width for width in WIDTHS if width <= original_width]
    return widths or [original_width]


def store(content, *, stem, extension):
    """Save bytes under a content-hash name; an existing file with that name is the same file."""
    digest = hashlib.sha256(content).hexdigest()[:16]
    name = f"{stem}-{digest}.{extension}"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(content))
        assert saved == name, f"storage renamed {name} to {saved}"
    return name


def encode(picture, image_format, *, icc_profile=None):
    """`picture` (Pillow) as bytes in one rendition format, without any metadata."""
    if image_format == "jpeg" and picture.mode != "RGB":
        picture = _flatten(picture)
    elif picture.mode not in {"RGB", "RGBA"}:
        picture = picture.convert("RGBA" if _has_alpha(picture) else "RGB")
    options = dict(ENCODE_OPTIONS[image_format])
    if icc_profile:
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    picture.save(buffer, format=image_format.upper(), exif=b"", **options)
    return buffer.getvalue()


def open_original(image, *, at_least=(WIDTHS[-1], 1)):
    """The stored original, decoded. A JPEG much larger than needed is decoded at 1/2, 1/4 or 1/8
    scale (libjpeg's draft mode, never below `at_least`): a 4000 px photo decodes at 2000 px in a
    fraction of the time, and no rendition needs more."""
    with default_storage.open(image.file.name, "rb") as handle:
        source = PILImage.open(handle)
        if source.format == "JPEG":
            source.draft(source.mode, at_least)
        source.load()
    return source


def make_renditions(image):
    """Every width in every format for `image`; returns the list stored on `Image.renditions`."""
    source = open_original(image)
    icc_profile = source.info.get("icc_profile")
    source.info = {}
    if source.mode not in {"RGB", "RGBA"}:
        source = source.convert("RGBA" if _has_alpha(source) else "RGB")
    stem = f"images/renditions/{image.pk}/{_base_name(image.file.name)}"
    made = []
    # Largest first, each step resized from the one before: cheaper than from the original each time.
    current = source
    for width in sorted(widths_for(source.width), reverse=True):
        height = max(1, round(source.height * width / source.width))
        if (width, height) != current.size:
            current = current.resize((width, height), PILImage.Resampling.LANCZOS, reducing_gap=3.0)
        for image_format in FORMATS:
            payload = encode(current, image_format, icc_profile=icc_profile)
            name = store(payload, stem=f"{stem}-{width}w", extension=EXTENSIONS[image_format])
            made.append({"format": image_format, "width": width, "height": height, "name": name})
    made.sort(key=lambda item: (FORMATS.index(item["format"]), item["width"]))
    return made


def _base_name(name):
    return name.rsplit("/", 1)[-1].rsplit(".", 1)[0][:20]


def _has_alpha(picture):
    return "A" in picture.getbands() or "transparency" in picture.info


def _flatten(picture):
    """JPEG has no transparency: transparent pixels become white."""
    if not _has_alpha(picture):
        return picture.convert("RGB")
    rgba = picture.convert("RGBA")
    background = PILImage.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
