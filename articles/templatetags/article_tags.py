import json
from functools import lru_cache

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from articles.images.pictures import absolute, media_url
from core.urls import cached_reverse

register = template.Library()

# Escaped so the JSON can never close its <script> element or open a comment.
_SCRIPT_SAFE = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}

LOGO_STATIC_PATH = "img/logo.png"
LOGO_SIZE = 512  # pixels, square (static/img/logo.png)
LANGUAGE = "en"  # the pages' <html lang>


@register.filter
def iso_datetime(value):
    """A datetime as HTML's <time datetime> and schema.org accept it: ISO 8601 to the second.

    Django's `date:'c'` and `isoformat()` keep microseconds, which HTML forbids (at most
    three digits of a fraction). Aware values are shown in the current time zone.
    """
    if not value:
        return ""
    return _local(value).isoformat(timespec="seconds")


def _local(value):
    """An aware datetime in the current time zone (what templates show); a naive one as it is."""
    return timezone.localtime(value) if timezone.is_aware(value) else value


@register.simple_tag
def time_element(value):
    """`<time datetime="2026-12-07T08:00:00+00:00">7 December 2026</time>`: the same as
    `<time datetime="{{ value|iso_datetime }}">{{ value|date:"j F Y" }}</time>`, a card's date.

    The `date` filter's localisation lookups cost about 30 us each (a third of a search
    results list's render, measured); a day's label is made once per language here.
    """
    if not value:
        return ""
    local = _local(value)
    return format_html(
        '<time datetime="{}">{}</time>', local.isoformat(timespec="seconds"), _day_label(local.date(), get_language())
    )


@lru_cache(maxsize=4096)
def _day_label(day, _language):
    return dateformat.format(day, "j F Y")


@register.filter
def tag_url(slug):
    """The tag page's address: `{{ tag.slug|tag_url }}`, as `{% url 'articles:tag' tag.slug %}` but remembered."""
    return cached_reverse("articles:tag", slug)


def _json_ld(data):
    return mark_safe(json.dumps(data).translate(_SCRIPT_SAFE))  # noqa: S308 (escaped above)


def _site_nodes(request, site_name):
    """The WebSite (with its search action) and the Organization that publishes it."""
    home = request.build_absolute_uri(reverse("articles:home"))
    search = request.build_absolute_uri(reverse("articles:search"))
    organization = {
        "@type": "Organization",
        "@id": f"{home}#organization",
        "name": site_name,
        "url": home,
        "logo": {
            "@type": "ImageObject",
            "@id": f"{home}#logo",
            "url": request.build_absolute_uri(static(LOGO_STATIC_PATH)),
            "width": LOGO_SIZE,
            "height": LOGO_SIZE,
        },
    }
    website = {
        "@type": "WebSite",
        "@id": f"{home}#website",
        "url": home,
        "name": site_name,
        "inLanguage": LANGUAGE,
        "publisher": {"@id": organization["@id"]},
        "potentialAction": {
            "@type": "SearchAction",
            "target": {"@type": "EntryPoint", "urlTemplate": f"{search}?q={{search_term_string}}"},
            "query-input": "required name=search_term_string",
        },
    }
    return website, organization


@register.simple_tag(takes_context=True)
def site_json_ld(context):
    """schema.org WebSite and Organization (the home page), safe inside <script type="application/ld+json">."""
    website, organization = _site_nodes(context["request"], context.get("site_name", ""))
    return _json_ld({"@context": "https://schema.org", "@graph": [website, organization]})


def article_image(article, request):
    """The article's hero as a schema.org ImageObject, or None."""
    if article.hero_image is None:
        return None
    from .image_tags import image_object

    return image_object(article.hero_image, request)


@register.simple_tag(takes_context=True)
def article_json_ld(context, article):
    """schema.org graph for an article page, safe inside <script type="application/ld+json">.

    WebSite and Organization, the MedicalWebPage, the Article as the page's main entity,
    and the breadcrumb trail (home, articles, this article).
    """
    request = context["request"]
    site_name = context.get("site_name", "")
    website, organization = _site_nodes(request, site_name)
    url = request.build_absolute_uri(article.get_absolute_url())
    list_url = request.build_absolute_uri(reverse("articles:list"))
    publisher = {"@id": organization["@id"]}
    # No named writer: the publication itself stands behind the text.
    author = person_data(article.author, request) if article.author else publisher
    breadcrumbs = {
        "@type": "BreadcrumbList",
        "@id": f"{url}#breadcrumbs",
        "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": site_name, "item": website["url"]},
            {"@type": "ListItem", "position": 2, "name": "Articles", "item": list_url},
            {"@type": "ListItem", "position": 3, "name": article.title, "item": url},
        ],
    }
    article_node = {
        "@type": "Article",
        "@id": f"{url}#article",
        "headline": article.title,
        "description": article.summary,
        "url": url,
        "mainEntityOfPage": {"@id": url},
        "author": author,
        "publisher": publisher,
        "datePublished": iso_datetime(article.published_at) or None,
        "dateModified": iso_datetime(article_modified(article)),
        "inLanguage": LANGUAGE,
        "keywords": [tag.name for tag in article.tag_list],
    }
    image = article_image(article, request)
    if image:
        article_node["image"] = image
    if article_node["datePublished"] is None:  # an editor's preview of a draft
        del article_node["datePublished"]
    page = {
        "@type": "MedicalWebPage",
        "@id": url,
        "url": url,
        "name": article.title,
        "description": article.summary,
        "inLanguage": LANGUAGE,
        "isPartOf": {"@id": website["@id"]},
        "publisher": publisher,
        "breadcrumb": {"@id": breadcrumbs["@id"]},
        "mainEntity": {"@id": article_node["@id"]},
        "dateModified": article_node["dateModified"],
    }
    if "datePublished" in article_node:
        page["datePublished"] = article_node["datePublished"]
    page.update(review_json_ld(article, request))
    return _json_ld(
        {"@context": "https://schema.org", "@graph": [website, organization, page, article_node, breadcrumbs]}
    )


def person_data(person, request):
    """schema.org Person for an author or a reviewer: name, page, credentials (never the email)."""
    data = {"@type": "Person", "name": person.name, "url": request.build_absolute_uri(person.get_absolute_url())}
    if person.credentials:
        data["description"] = person.credentials
        data["hasCredential"] = {"@type": "EducationalOccupationalCredential", "name": person.credentials}
    photo = getattr(person, "photo", None)
    if photo is not None:
        data["image"] = absolute(request, media_url(photo.file.name))
    return data


def review_json_ld(article, request):
    """The review properties of the article's MedicalWebPage: lastReviewed and reviewedBy
    from the latest approved review that names a reviewer (dateModified, the last text
    edit, is set on the page and the Article from article_modified())."""
    data = {}
    review = article.last_review
    if review is not None and review.reviewer is not None:
        data["lastReviewed"] = review.reviewed_on.isoformat()
        data["reviewedBy"] = person_data(review.reviewer, request)
    return data


def article_modified(article):
    """When the article's text last changed (not a metadata-only save)."""
    return article.text_updated_at or article.updated_at


@register.simple_tag(takes_context=True)
def person_json_ld(context, person):
    """schema.org Person for a person's page, safe inside <script type="application/ld+json">."""
    data = {"@context": "https://schema.org", **person_data(person, context["request"])}
    if getattr(person, "bio", ""):
        data["description"] = person.bio
    return _json_ld(data)
