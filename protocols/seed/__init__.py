"""Seed content for `manage.py seed_content`: the Sleep Protocol and its program. Safe to run repeatedly.

The program's emails are the Markdown files in `sleep-protocol/`, one a step, in file-name
order, each with `subject` and `delay_days` in a small front matter.
"""

from pathlib import Path

from django.db import transaction
from django.utils import timezone

from ..models import Protocol, Step

SEED_DIR = Path(__file__).resolve().parent

SLEEP_PROTOCOL = {
    "name": "Sleep Protocol",
    "tagline": "Short emails on building steadier sleep habits, one small step at a time.",
    "description": """\
The Sleep Protocol is a program from this site for readers who want to work on their
sleep habits one small step at a time. It is delivered by email: after you confirm your
address, you receive a short series of emails.

Each email covers one everyday habit that sleep guidance commonly discusses, such as a
regular wake-up time, daylight in the morning, caffeine timing and a wind-down routine, and
ends with one small thing to try. There are eight emails over about two and a half weeks,
and you can pause them, choose your time zone or unsubscribe from a link in every email.

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


def parse_step_file(path):
    """`---` front matter (`subject`, `delay_days`) and the Markdown body of one step."""
    text = Path(path).read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    meta = dict(line.split(":", 1) for line in front.splitlines() if line.strip())
    return {
        "subject": meta["subject"].strip(),
        "delay_days": int(meta["delay_days"]),
        "body": body.strip() + "\n",
    }


def seed_steps(protocol, *, folder, stdout=None):
    """Create each step of `folder` that was never created for `protocol`; returns how many.

    "Never" counts the steps' version history: a seeded step that staff deleted or
    rewrote is not created again.
    """
    created = 0
    for position, path in enumerate(sorted(Path(folder).glob("*.md")), start=1):
        key = path.stem
        with transaction.atomic():
            if Step.history.filter(protocol_id=protocol.pk, seed_key=key).exists():
                continue
            Step.objects.create(protocol=protocol, position=position, seed_key=key, **parse_step_file(path))
        created += 1
    if stdout is not None and created:
        stdout.write(f"Created {created} step(s) of the {protocol.name}.\n")
    return created


def seed_protocols(stdout=None):
    """Create the Sleep Protocol (open, announced) unless it exists, and its program; returns it."""
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
    seed_steps(protocol, folder=SEED_DIR / "sleep-protocol", stdout=stdout)
    return protocol
