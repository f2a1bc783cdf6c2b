from unittest import mock

import pytest
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from protocols.models import Protocol, Signup
from protocols.seed import seed_protocols


@pytest.fixture
def protocol(db):
    """The seeded Sleep Protocol: open and announced."""
    return seed_protocols()


@pytest.fixture
def make_protocol(db):
    counter = iter(range(1, 10_000))

    def make(**fields):
        n = next(counter)
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

    return make


@pytest.fixture
def make_signup(db):
    from django.utils import timezone

    def make(protocol, email="reader@example.org", **fields):
        values = {
            "protocol": protocol,
            "email": email,
            "consent_text": protocol.consent_text,
            "consented_at": timezone.now(),
        }
        values.update(fields)
        return Signup.objects.create(**values)

    return make


def run_worker():
    """Run every ready task the way `manage.py db_worker` does, in this process; returns how many ran."""
    before = DBTaskResult.objects.finished().count()
    # The worker closes "old" connections between tasks; inside a test's transaction that
    # would close the test's own connection (PostgreSQL), so it is a no-op here.
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None):
        _worker()
    return DBTaskResult.objects.finished().count() - before


def _worker():
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


def make_scheduled_tasks_due():
    """Pretend the backoff delay has passed: every deferred task, and every email waiting
    for its next attempt, is due now."""
    from django.utils import timezone

    from protocols.models import EmailDelivery

    now = timezone.now()
    EmailDelivery.objects.filter(next_attempt_at__gt=now).update(next_attempt_at=now)
    return DBTaskResult.objects.filter(status="READY").update(run_after=now)


@pytest.fixture
def worker():
    return run_worker
