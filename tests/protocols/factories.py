"""Plain factory functions for protocols and signups; every argument has a sensible default."""

import itertools

from django.utils import timezone

from protocols import services
from protocols.models import Protocol, Signup

_sequence = itertools.count(1)


def make_protocol(**fields):
    """An open protocol with a unique name and slug."""
    n = next(_sequence)
    values = {
        "name": f"Test Protocol {n}",
        "slug": f"test-protocol-{n}",
        "tagline": "A protocol for tests.",
        "description": "Delivered **by email**.",
        "status": Protocol.Status.OPEN,
        "consent_text": "I agree to receive these emails.",
    }
    values.update(fields)
    return Protocol.objects.create(**values)


def make_signup(protocol, email="reader@example.org", **fields):
    """A signup (unconfirmed unless `fields` say otherwise) that consented just now."""
    values = {
        "protocol": protocol,
        "email": email,
        "consent_text": protocol.consent_text,
        "consented_at": timezone.now(),
    }
    values.update(fields)
    return Signup.objects.create(**values)


def sign_up(protocol, email, capture):
    """A signup through the service, its on-commit effects (the queued email) run."""
    with capture(execute=True):
        return services.create_signup(protocol=protocol, email=email)
