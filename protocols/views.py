"""Placeholder: the protocols feature replaces this."""

from django.http import Http404


def protocol_list(request):
    raise Http404
