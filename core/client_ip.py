"""The client address used for rate limits and the admin lockout (django-axes)."""

import ipaddress

from django.conf import settings


def get_client_ip(request):
    """REMOTE_ADDR, or the header a trusted proxy sets when DJANGO_CLIENT_IP_HEADER names it.

    Only configure the header when every request really comes through that proxy: clients
    can send any header themselves. With X-Forwarded-For the right-most entry is the one
    our proxy added; entries to its left come from the client and can be forged.
    """
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header:
        parts = [part.strip() for part in request.META.get(header, "").split(",") if part.strip()]
        if parts:
            return parts[-1][:100]
    return request.META.get("REMOTE_ADDR", "")[:100] or "unknown"


def axes_client_ip(request):
    """The same address for django-axes, whose log column accepts only real IP addresses."""
    address = get_client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
