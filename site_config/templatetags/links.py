"""`{% link 'articles:list' %}`: the layout's fixed links, reversed once per process.

The same as `{% url 'articles:list' %}` for a view name with positional arguments or none,
through core.urls.cached_reverse: `{% url %}` reverses afresh each time (about 45 us a link
here), and every page renders the header's and footer's eleven links.
"""

from django import template

from core.urls import cached_reverse

register = template.Library()


@register.simple_tag
def link(viewname, *args):
    return cached_reverse(viewname, *args)
