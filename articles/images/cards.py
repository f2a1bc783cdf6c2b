"""Pictures for shared links: og:image at 1200 x 630.

- An article with a hero image: the hero cropped around its focal point (made by the worker).
- Every other page: a generated card, the title and the site name on the site's colours,
  drawn once per title and kept in storage under a hash of what it shows.
"""

import hashlib
import io
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from .renditions import encode, open_original, store

CARD_SIZE = (1200, 630)
# static/css/site.css: --banner-bg, --accent-soft and white.
CARD_BACKGROUND = "#0b5e59"
CARD_RULE = "#e3f1ef"
CARD_TEXT = "#ffffff"
FONT_PATH = Path(__file__).resolve().parent / "fonts" / "DejaVuSans-Bold.ttf"
# Bump when the drawing changes: every card is drawn again under new names.
CARD_DESIGN = "1"
MAX_TITLE_CHARS = 160


def crop_box(size, focal, target=CARD_SIZE):
    """The largest box of the target's proportions inside `size`, centred on `focal` (0..1, 0..1)
    as far as the edges allow."""
    width, height = size
    ratio = target[0] / target[1]
    if width / height > ratio:
        box_w, box_h = round(height * ratio), height
    else:
        box_w, box_h = width, round(width / ratio)
    left = min(max(round(focal[0] * width - box_w / 2), 0), width - box_w)
    top = min(max(round(focal[1] * height - box_h / 2), 0), height - box_h)
    return (left, top, left + box_w, top + box_h)


def make_social_crop(image):
    """The hero's 1200 x 630 JPEG around its focal point; returns the stored name."""
    # Decoded at least 1200 x 630, so any crop of the card's proportions is at least the card's size.
    source = open_original(image, at_least=CARD_SIZE)
    icc_profile = source.info.get("icc_profile")
    source.info = {}
    cropped = source.crop(crop_box(source.size, (image.focal_x, image.focal_y)))
    cropped = cropped.resize(CARD_SIZE, PILImage.Resampling.LANCZOS)
    payload = encode(cropped, "jpeg", icc_profile=icc_profile)
    return store(payload, stem=f"images/social/{image.pk}", extension="jpg")


def generated_card_name(title, site_name):
    key = "\x1f".join([CARD_DESIGN, site_name, title, CARD_BACKGROUND, CARD_TEXT])
    return f"images/cards/{hashlib.sha256(key.encode()).hexdigest()[:24]}.jpg"


def generated_card(title, site_name=None):
    """The stored name of the card for `title`, drawn on first use (then found in the cache)."""
    site_name = site_name or settings.SITE_NAME
    title = " ".join((title or site_name).split())[:MAX_TITLE_CHARS]
    name = generated_card_name(title, site_name)
    cache_key = f"social-card:{name}"
    if cache.get(cache_key):
        return name
    if not default_storage.exists(name):
        payload = draw_card(title, site_name)
        default_storage.save(name, io.BytesIO(payload))
    cache.set(cache_key, 1, None)
    return name


def draw_card(title, site_name):
    """JPEG bytes: the title, wrapped and sized to fit, over the site's name."""
    card = PILImage.new("RGB", CARD_SIZE, CARD_BACKGROUND)
    draw = ImageDraw.Draw(card)
    margin = 80
    box_width = CARD_SIZE[0] - 2 * margin
    for size in (72, 64, 56, 48, 42):
        font = ImageFont.truetype(str(FONT_PATH), size)
        lines = _wrap(draw, title, font, box_width)
        if len(lines) <= 4:
            break
    if len(lines) > 4:
        lines = [*lines[:3], _ellipsis(draw, " ".join(lines[3:]), font, box_width)]
    line_height = round(font.size * 1.2)
    top = margin
    for line in lines:
        draw.text((margin, top), line, font=font, fill=CARD_TEXT)
        top += line_height
    footer_font = ImageFont.truetype(str(FONT_PATH), 36)
    rule_top = CARD_SIZE[1] - margin - 60
    draw.rectangle((margin, rule_top, margin + 120, rule_top + 6), fill=CARD_RULE)
    draw.text((margin, rule_top + 24), site_name, font=footer_font, fill=CARD_TEXT)
    buffer = io.BytesIO()
    card.save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def _wrap(draw, text, font, width):
    lines, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and draw.textlength(candidate, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _ellipsis(draw, text, font, width):
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"
