from django import template
from django.urls import reverse
from django.utils.html import format_html

from articles.review_cycle import overdue_count

register = template.Library()


@register.simple_tag(takes_context=True)
def review_queue_summary(context):
    """The admin index's line on the review queue, for staff who may see articles."""
    user = context["request"].user
    if not (user.has_perm("articles.view_article") or user.has_perm("articles.change_article")):
        return ""
    count = overdue_count()
    return format_html(
        '<p class="review-queue-summary"><a href="{}">Medical review queue</a>: {} article{} overdue for review.</p>',
        reverse("admin:articles_article_review_queue"),
        count,
        "" if count == 1 else "s",
    )
