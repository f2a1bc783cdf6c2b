"""The Jinja2 environment for the few reader-page blocks rendered with Jinja2.

Django templates render everything; a block that repeats per item on pages that miss the
page cache (the search results list and its facets, the lists' article cards) is a Jinja2
template under templates/jinja2/, included with `{% jinja "name" key=value %}`
(site_config/templatetags/jinja.py). Jinja2 compiles templates to Python: the results list
renders in about half the time (docs/decisions/jinja2-for-hot-blocks.md). Its helpers are the
Django tags' own functions, so both engines produce the same markup.
"""

from django.contrib.humanize.templatetags.humanize import intcomma
from jinja2 import Environment

from articles.templatetags.article_tags import tag_url, time_element
from articles.templatetags.image_tags import card_image


def environment(**options):
    env = Environment(**options)  # noqa: S701 (Django's backend passes autoescape=True)
    env.globals.update(card_image=card_image, time_element=time_element)
    env.filters.update(intcomma=intcomma, tag_url=tag_url)
    return env
