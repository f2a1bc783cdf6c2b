import io

import pytest

from protocols.models import Protocol
from protocols.seed import seed_protocols


@pytest.mark.django_db
def test_seed_creates_the_open_announced_sleep_protocol_once():
    """seed_protocols creates the Sleep Protocol (open, announced, launched) and is idempotent."""
    out = io.StringIO()
    first = seed_protocols(stdout=out)
    second = seed_protocols(stdout=out)
    assert first.pk == second.pk
    assert Protocol.objects.count() == 1
    assert first.name == "Sleep Protocol"
    assert first.status == Protocol.Status.OPEN and first.announce and first.launched_at
    assert "by email" in first.description
    assert "not medical advice" in first.description
    assert "unsubscribe" in first.consent_text
    assert "Created protocol: Sleep Protocol" in out.getvalue()
    assert "Kept protocol: Sleep Protocol" in out.getvalue()


@pytest.mark.django_db
def test_seed_never_overwrites_staff_edits():
    """Running the seed again keeps what staff changed."""
    protocol = seed_protocols()
    protocol.tagline = "Edited by staff"
    protocol.save()
    seed_protocols()
    protocol.refresh_from_db()
    assert protocol.tagline == "Edited by staff"
