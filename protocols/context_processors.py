from django.utils.functional import SimpleLazyObject

from .banner import get_banner_protocol


def banner(request):
    """`banner_protocol` for templates/includes/banner.html (None: no banner).

    Looked up when the template first reads it: not at all when the page comes from the
    fragment cache (templates/base.html)."""
    return {"banner_protocol": SimpleLazyObject(get_banner_protocol)}
