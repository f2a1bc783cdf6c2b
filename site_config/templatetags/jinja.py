"""`{% jinja "articles/search_results.html" hits=page_obj.object_list %}`: a Jinja2
template (templates/jinja2/) rendered inside a Django one, with the given values as its
context. Jinja2 escapes what it outputs (autoescape), so the result is safe HTML.
"""

from django import template
from django.template import engines
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def jinja(template_name, **context):
    return mark_safe(engines["jinja2"].get_template(template_name).render(context))  # noqa: S308 (autoescaped)
