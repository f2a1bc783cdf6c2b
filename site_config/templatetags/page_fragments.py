"""``{% cachedfragment "name" [value ...] %}...{% endcachedfragment %}``: a part of a public
page rendered once per content version and reused by every render of the same page.

The key is the name, the values given, the template being rendered and the request's
scheme, host and full path (query string included): what makes one page differ from
another. Outside a public view's GET (see site_config/page_cache/fragments.py) the content
is rendered every time, as if the tag were not there, and so it is when the context sets
``render_fragments_afresh`` (a page whose URLs rarely repeat, where storing would cost more
than it saves). Blocks inside it can be overridden as usual.
"""

from django import template

from site_config import page_cache

register = template.Library()


class CachedFragmentNode(template.Node):
    def __init__(self, name, values, nodelist):
        self.name = name
        self.values = values
        self.nodelist = nodelist

    def render(self, context):
        request = context.get("request")
        version = page_cache.fragment_version(request)
        if version is None or context.get("render_fragments_afresh"):
            return self.nodelist.render(context)
        parts = [
            getattr(context.template, "name", ""),
            request.scheme,
            request.get_host(),
            request.get_full_path(),
            *(value.resolve(context) for value in self.values),
        ]
        key = page_cache.fragment_key(version, self.name.resolve(context), parts)
        html = page_cache.get_fragment(key)
        if html is None:
            html = self.nodelist.render(context)
            page_cache.set_fragment(key, html, version)
        return html


@register.tag
def cachedfragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(f"{bits[0]} needs a name")
    nodelist = parser.parse(("endcachedfragment",))
    parser.delete_first_token()
    values = [parser.compile_filter(bit) for bit in bits[2:]]
    return CachedFragmentNode(parser.compile_filter(bits[1]), values, nodelist)
