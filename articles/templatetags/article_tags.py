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
        "dateModified": article.updated_at,
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
    if article.reviewed_by:
        data["reviewedBy"] = {"@type": "Person", "name": article.reviewed_by}
        if article.reviewed_at:
            data["lastReviewed"] = article.reviewed_at
    return mark_safe(json.dumps(data, cls=DjangoJSONEncoder).translate(_SCRIPT_SAFE))  # noqa: S308 (escaped above)
