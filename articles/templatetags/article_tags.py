import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import mark_safe

register = template.Library()

# Escaped so the JSON can never close its <script> element or open a comment.
_SCRIPT_SAFE = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.simple_tag(takes_context=True)
def article_json_ld(context, article):
    """schema.org MedicalWebPage for an article, safe inside <script type="application/ld+json">."""
    request = context["request"]
    url = request.build_absolute_uri(article.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "@id": url,
        "url": url,
        "headline": article.title,
        "name": article.title,
        "description": article.summary,
        "datePublished": article.published_at,
        "keywords": [tag.name for tag in article.tag_list],
        "publisher": {"@type": "Organization", "name": context.get("site_name", "")},
        "mainEntityOfPage": url,
    }
    if article.author:
        data["author"] = {"@type": "Person", "name": article.author.name}
        if article.author.credentials:
            data["author"]["description"] = article.author.credentials
    else:  # no named writer: the publication itself stands behind the text
        data["author"] = data["publisher"]
    data.update(review_json_ld(article, request))
    return _script_safe_json(data)


def _script_safe_json(data):
    return mark_safe(json.dumps(data, cls=DjangoJSONEncoder).translate(_SCRIPT_SAFE))  # noqa: S308 (escaped above)


def person_data(person, request):
    """schema.org Person for an author or a reviewer: name, page, credentials (never the email)."""
    data = {"@type": "Person", "name": person.name, "url": request.build_absolute_uri(person.get_absolute_url())}
    if person.credentials:
        data["description"] = person.credentials
        data["hasCredential"] = {"@type": "EducationalOccupationalCredential", "name": person.credentials}
    return data


def review_json_ld(article, request):
    """The review properties of the article's page: dateModified (the last text edit), and
    lastReviewed and reviewedBy from the latest approved review that names a reviewer."""
    data = {"dateModified": article.text_updated_at or article.updated_at}
    review = article.last_review
    if review is not None and review.reviewer is not None:
        data["lastReviewed"] = review.reviewed_on
        data["reviewedBy"] = person_data(review.reviewer, request)
    return data


@register.simple_tag(takes_context=True)
def person_json_ld(context, person):
    """schema.org Person for a person's page, safe inside <script type="application/ld+json">."""
    data = {"@context": "https://schema.org", **person_data(person, context["request"])}
    if getattr(person, "bio", ""):
        data["description"] = person.bio
    return _script_safe_json(data)
