"""Body images: the markers core.markdown leaves for `![alt](image:42)`, expanded when a page
is shown, with the library's current renditions, alt text and caption."""

import re
from html import unescape as unescape_entities

from django.template.loader import render_to_string
from django.utils.html import format_html, mark_safe

from articles.models import Image

from .pictures import picture

MARKER = re.compile(r'<figure data-image="(\d+)"(?: data-alt="([^"]*)")?></figure>')
# A body image fills the text column, like the hero.
BODY_SIZES = "(min-width: 46rem) 44rem, calc(100vw - 2rem)"


def image_ids(html):
    return {int(number) for number, _alt in MARKER.findall(html or "")}


def expand_body_images(html, *, staff_preview=False):
    """`html` (sanitised body HTML) with each marker replaced by its <figure>.

    One query for all the body's images, none when there are no markers. An unknown id (a
    typo, a deleted image) shows nothing to readers; editors previewing see a warning.
    """
    ids = image_ids(html)
    if not ids:
        return mark_safe(html)  # noqa: S308 (sanitised when the article was saved)
    images = Image.objects.in_bulk(ids)

    def replace(match):
        image = images.get(int(match.group(1)))
        if image is None:
            if not staff_preview:
                return ""
            return format_html(
                '<p class="image-warning" role="note">Image {} is not in the image library: readers see nothing '
                "here. Check the number in <code>![](image:{})</code>.</p>",
                match.group(1),
                match.group(1),
            )
        alt = unescape_entities(match.group(2)) if match.group(2) else None
        return render_to_string(
            "images/figure.html",
            {"image": image, "picture": picture(image, alt=alt), "sizes": BODY_SIZES, "priority": False},
        ).strip()

    return mark_safe(MARKER.sub(replace, html))  # noqa: S308 (markers replaced by escaped templates)
