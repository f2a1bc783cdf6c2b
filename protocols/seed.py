"""Seed content for `manage.py seed_content`: the Sleep Protocol. Safe to run repeatedly."""

from django.utils import timezone

from .models import Protocol

SLEEP_PROTOCOL = {
    "name": "Sleep Protocol",
    "tagline": "Short emails on building steadier sleep habits, one small step at a time.",
    "description": """\
The Sleep Protocol is a program from this site for readers who want to work on their
sleep habits one small step at a time. It is delivered by email: after you confirm your
address, you receive a short series of emails.

Each email covers one everyday habit that sleep guidance commonly discusses, such as a
regular wake-up time, daylight in the morning, caffeine timing and a wind-down routine, with
links to the articles on this site that go into the evidence.

## What it is not

It is general information, not medical advice, and it does not diagnose or treat sleep
problems. If you have ongoing trouble sleeping, or you are thinking about a supplement, talk
to your doctor or pharmacist first.

You can unsubscribe at any time with the link at the bottom of every email.
""",
    "consent_text": (
        "I agree to receive the Sleep Protocol emails from this site at this address. "
        "I can unsubscribe at any time with the link in every email."
    ),
}


def seed_protocols(stdout=None):
    """Create the Sleep Protocol (open, announced) unless it exists; returns it."""
    protocol, created = Protocol.objects.get_or_create(
        slug="sleep-protocol",
        defaults={
            **SLEEP_PROTOCOL,
            "status": Protocol.Status.OPEN,
            "announce": True,
            "launched_at": timezone.now(),
        },
    )
    if stdout is not None:
        stdout.write(f"{'Created' if created else 'Kept'} protocol: {protocol.name}\n")
    return protocol
