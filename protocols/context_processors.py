from .banner import get_banner_protocol


def banner(request):
    """`banner_protocol` for templates/includes/banner.html (None: no banner)."""
    return {"banner_protocol": get_banner_protocol()}
