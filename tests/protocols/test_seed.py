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


@pytest.mark.django_db
def test_seed_creates_the_sleep_program_once_and_never_brings_back_a_deleted_step():
    """The Sleep Protocol ships with its eight emails in order; a step staff deleted is not seeded again."""
    from protocols.models import Step

    protocol = seed_protocols()
    steps = list(protocol.steps.order_by("position"))
    assert [s.position for s in steps] == list(range(1, 9))
    assert steps[0].delay_days == 0 and all(1 <= s.delay_days <= 3 for s in steps[1:])
    assert 14 <= sum(s.delay_days for s in steps) <= 21  # two to three weeks
    assert all(s.subject and "\n" not in s.subject and len(s.subject) <= 150 for s in steps)
    assert "doctor" in steps[-1].body and "<p>" in steps[0].body_html
    steps[2].delete()
    steps[0].subject = "Edited"
    steps[0].save()
    seed_protocols()
    assert protocol.steps.count() == 7
    assert Step.objects.get(position=1).subject == "Edited"
