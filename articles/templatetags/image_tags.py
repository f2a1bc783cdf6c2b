"""Library images in templates: <picture>, card thumbnails, og:image and the generated cards."""

import logging
from html import unescape as unescape_entities

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.html import strip_tags

from articles.images import cards
from articles.images.pictures import absolute, card_picture, media_url, picture, social_image

logger = logging.getLogger(__name__)
register = template.Library()

OG_TITLE_KEY = "og_title_text"
# The hero fills the text column: 100% of the screen less the page padding on phones.
HERO_SIZES = "(min-width: 46rem) 44rem, calc(100vw - 2rem)"


@register.inclusion_tag("images/picture.html")
def picture_tag(image, *, sizes=HERO_SIZES, priority=False, alt=None, css_class=""):
    """A responsive <picture>: `priority` for the first image on screen (no lazy loading)."""
    return {"picture": picture(image, alt=alt), "sizes": sizes, "priority": priority, "css_class": css_class}


@register.simple_tag(takes_context=True)
def article_body(context, article):
    """The article's stored body HTML with its library images expanded (warnings for editors' previews)."""
    from articles.images.markdown import expand_body_images

    view = context.get("view")
    return expand_body_images(article.body_html, staff_preview=bool(getattr(view, "preview", False)))


@register.simple_tag
def card_image(article):
    """The small rendition on an article card, or nothing when the article has no hero (most
    cards: no template is rendered for them)."""
    if article.hero_image_id is None:
        return ""
    return render_to_string("images/card_picture.html", {"picture": card_picture(article.hero_image)})


class RememberOgTitleNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        output = self.nodelist.render(context)
        context.render_context[OG_TITLE_KEY] = output
        return output


@register.tag
def og_title(parser, token):
    """{% og_title %}...{% endog_title %}: outputs the title and keeps it for {% generated_card_meta %}."""
    nodelist = parser.parse(("endog_title",))
    parser.delete_first_token()
    return RememberOgTitleNode(nodelist)


@register.inclusion_tag("images/og_image.html", takes_context=True)
def generated_card_meta(context, title=None):
    """og:image meta for the generated card of `title` (by default the page's og:title)."""
    if title is None:
        title = unescape_entities(strip_tags(context.render_context.get(OG_TITLE_KEY, "")))
    site_name = context.get("site_name") or settings.SITE_NAME
    try:
        name = cards.generated_card(title, site_name)
    except Exception:
        # A storage outage must not take the page down: the page goes without its picture.
        logger.exception("generated social card failed")
        return {}
    return {
        "url": absolute(context["request"], media_url(name)),
        "width": cards.CARD_SIZE[0],
        "height": cards.CARD_SIZE[1],
        "alt": f"{' '.join(title.split())} · {site_name}" if title.strip() != site_name else site_name,
    }


@register.inclusion_tag("images/og_image.html", takes_context=True)
def hero_card_meta(context, image):
    """og:image meta for an article's hero: the 1200 x 630 crop around its focal point."""
    url, width, height = social_image(image)
    return {"url": absolute(context["request"], url), "width": width, "height": height, "alt": image.alt_text}


def image_object(image, request):
    """schema.org ImageObject for JSON-LD."""
    url, width, height = social_image(image)
    data = {
        "@type": "ImageObject",
        "url": absolute(request, media_url(image.file.name)),
        "contentUrl": absolute(request, media_url(image.file.name)),
        "width": image.width,
        "height": image.height,
        "caption": image.caption or image.alt_text,
        "creditText": image.credit,
    }
    if (width, height) == cards.CARD_SIZE:
        data["thumbnailUrl"] = absolute(request, url)
    return data
