"""What templates need to show a library image: <picture> sources, the fallback, the og:image."""

from dataclasses import dataclass, field

from django.core.files.storage import default_storage

from .cards import CARD_SIZE
from .renditions import CARD_WIDTH, FORMATS, MIME_TYPES

# The <img> fallback's src: the rendition nearest this width (a phone at 2x, a laptop at 1x).
DEFAULT_SRC_WIDTH = 800


@dataclass
class Picture:
    src: str
    width: int
    height: int
    alt: str
    srcset: str = ""
    sources: list = field(default_factory=list)  # [{"type": ..., "srcset": ...}], best format first


def media_url(name):
    return default_storage.url(name)


def absolute(request, url):
    """Storage URLs are absolute already with S3; relative ones get the request's host."""
    return url if url.startswith(("http://", "https://")) else request.build_absolute_uri(url)


def picture(image, *, alt=None, max_width=None):
    """The <picture> parts for `image`; before the worker made renditions, the original alone."""
    alt_text = image.alt_text if alt is None else alt
    made = [item for item in image.renditions if max_width is None or item["width"] <= max_width]
    if not image.renditions_ready or not made:
        return Picture(src=media_url(image.file.name), width=image.width, height=image.height, alt=alt_text)
    by_format = {name: sorted((r for r in made if r["format"] == name), key=lambda r: r["width"]) for name in FORMATS}
    jpegs = by_format["jpeg"]
    fallback = min(jpegs, key=lambda r: abs(r["width"] - DEFAULT_SRC_WIDTH))
    return Picture(
        src=media_url(fallback["name"]),
        width=fallback["width"],
        height=fallback["height"],
        alt=alt_text,
        srcset=_srcset(jpegs),
        sources=[{"type": MIME_TYPES[name], "srcset": _srcset(by_format[name])} for name in FORMATS[:-1]],
    )


def card_picture(image):
    """The small rendition on article cards."""
    return picture(image, alt="", max_width=CARD_WIDTH)


def thumbnail_url(image, *, width=CARD_WIDTH):
    """A JPEG no wider than `width` for the admin, else the original."""
    if image.renditions_ready:
        jpegs = [r for r in image.renditions if r["format"] == "jpeg" and r["width"] <= width]
        if jpegs:
            return media_url(max(jpegs, key=lambda r: r["width"])["name"])
    return media_url(image.file.name) if image.file else ""


def social_image(image):
    """(url, width, height) of the hero's og:image: the 1200 x 630 crop, or the original until it exists."""
    if image.social_name and image.social_focal == image.focal_key:
        return media_url(image.social_name), CARD_SIZE[0], CARD_SIZE[1]
    return media_url(image.file.name), image.width, image.height


def _srcset(renditions):
    return ", ".join(f"{media_url(r['name'])} {r['width']}w" for r in renditions)
