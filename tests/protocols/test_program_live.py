"""The program's delivery through the real parts: a file database, `manage.py` processes,
the real worker (`db_worker`) and an SMTP server on loopback (aiosmtpd).

Each process-level test gets its own migrated database (a copy of one migrated once per
module): SQLite in a temporary DJANGO_VAR_DIR, and, marked `postgres`, a throwaway
PostgreSQL database on the server DATABASE_URL points at. The SMTP outage test runs the
worker in this process under time-machine, as tests.helpers.run_worker does.
"""

import email
import email.policy
import signal
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from benchmarks.outbox import (
    WORKER,
    add_subscribers,
    address,
    create_subscribers,
    finish,
    run,
    run_django,
    smtp_env,
    smtp_server,
    start,
    state,
    wait_for,
)
from benchmarks.server import free_port
from protocols import services
from protocols.models import EmailDelivery, Signup
from tests.helpers import run_worker


def assert_clean(output):
    for bad in ("Traceback", "database is locked", '"level": "ERROR"'):
        assert bad not in output, output[-3000:]


def test_four_schedulers_at_once_send_each_step_exactly_once(live_databases):
    """4 `send_due_steps` processes started together over 1,000 due subscribers write one
    delivery per (subscriber, step), 1,000 in all, each handed to exactly one worker task;
    then `db_worker` hands exactly 1,000 emails to the SMTP server, one per address, and
    the next step (a day later) is planned for everyone but not sent."""
    env = live_databases.new("four-schedulers")
    add_subscribers(env, 1000, step_delays=(0, 1))
    with smtp_server() as inbox:
        env = smtp_env(env, inbox.port)
        # Small batches, so the four passes interleave many transactions.
        schedulers = [start(env, "send_due_steps", "--batch-size", "50") for _ in range(4)]
        results = [finish(process, timeout=120) for process in schedulers]
        for result in results:
            assert result.returncode == 0, result.output
            assert_clean(result.output)
        outbox = state(env)
        assert outbox["deliveries"] == outbox["pairs"] == 1000
        assert outbox["max_per_pair"] == 1
        assert outbox["handed_to_worker"] == 1000 and outbox["handed_twice"] == 0
        assert outbox["due"] == 0  # nobody is waiting for a step any more: it is on its way

        worker = run(env, *WORKER, timeout=300)
        assert_clean(worker.output)

    assert len(inbox) == 1000
    assert sorted(inbox.recipients) == sorted(address(n) for n in range(1000))
    assert all(b"Step 1 of the live program" in content for content in inbox.contents)
    outbox = state(env)
    assert outbox["sent"] == outbox["deliveries"] == 1000
    assert outbox["due"] == 1000  # step 2 is planned for tomorrow, not sent


def test_a_worker_killed_mid_batch_loses_nothing_and_resends_at_most_the_email_in_flight(live_databases):
    """At-least-once delivery: `db_worker` killed with SIGKILL in the middle of a batch
    (the SMTP server takes 50 ms a message) loses no email, and at most the one email that
    was in flight is received twice.

    Why: the worker records each email as sent only after the SMTP server accepted it. A
    kill between the two leaves that delivery claimed (claimed_until, 2 minutes) and not
    marked sent; the rest of the batch is untouched. The killed task stays RUNNING in the
    queue, so recovery is the outbox sweeper: `send_due_steps` re-queues undelivered emails
    whose attempt is more than 10 minutes overdue (and whose claim expired). The clock is
    moved with faketime (+15 minutes) for those processes, so the real expiry and grace
    rules are what is tested, not rows rewritten by hand.
    """
    env = live_databases.new("killed-worker")
    count = 100
    add_subscribers(env, count)
    with smtp_server(delay=0.05) as inbox:
        env = smtp_env(env, inbox.port)
        run(env, "send_due_steps")
        worker = start(env, *WORKER)
        assert wait_for(lambda: len(inbox) >= 20, timeout=60), "the worker sent nothing"
        worker.send_signal(signal.SIGKILL)
        assert finish(worker).returncode == -signal.SIGKILL
        received_before = len(inbox)
        assert received_before < count, "the worker finished before it was killed"

        outbox = state(env)
        assert outbox["claimed"] <= 1  # the email in flight, if the kill came mid-send
        assert outbox["sent"] <= received_before

        inbox.delay = 0
        # Too early, the claim and the task look alive: nothing is queued again.
        assert "queued 0 overdue" in run(env, "send_due_steps").output
        later = "+15m"
        sweep = run(env, "send_due_steps", clock=later)
        assert f"queued {count - outbox['sent']} overdue" in sweep.output
        recovery = run(env, *WORKER, clock=later, timeout=120)
        assert_clean(recovery.output)

    assert set(inbox.recipients) == {address(n) for n in range(count)}
    assert len(inbox) - count <= 1  # at most the email in flight, twice
    outbox = state(env)
    assert outbox["sent"] == outbox["deliveries"] == count
    assert outbox["claimed"] == 0


def test_unsubscribing_pausing_or_bouncing_after_scheduling_sends_nothing(live_databases):
    """Between `send_due_steps` and the worker, 5 subscribers unsubscribe, 2 pause and one
    address is marked bounced: the real worker re-checks each email at send time, sends
    none of those 8 and records why; the other 12 arrive."""
    env = live_databases.new("unsubscribed")
    add_subscribers(env, 20)
    with smtp_server() as inbox:
        env = smtp_env(env, inbox.port)
        run(env, "send_due_steps")
        assert state(env)["deliveries"] == 20
        run_django(
            env,
            """
from django.utils import timezone
from protocols import services
from protocols.models import BouncedAddress, Signup
signups = {s.email: s for s in Signup.objects.all()}
for n in range(5):
    services.unsubscribe(signup=signups[f"reader{n}@example.org"])
for n in (5, 6):
    services.pause(signup=signups[f"reader{n}@example.org"])
BouncedAddress.objects.create(email="READER7@example.org", bounced_at=timezone.now(), reason="550 no such user")
""",
        )
        assert_clean(run(env, *WORKER).output)

    assert sorted(inbox.recipients) == sorted(address(n) for n in range(8, 20))
    outbox = state(env)
    assert outbox["sent"] == 12
    assert outbox["skipped"] == {"signup unsubscribed": 5, "signup paused": 2, "address bounced": 1}


@pytest.fixture
def down_smtp_settings(settings):
    """Real SMTP to a loopback port where nothing listens (yet)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    return settings


def _subject(content):
    return email.message_from_bytes(content, policy=email.policy.default)["Subject"]


@pytest.mark.django_db(transaction=True)
def test_smtp_server_down_for_an_hour_delays_the_program_but_loses_and_reorders_nothing(down_smtp_settings):
    """The SMTP port refuses connections for an hour: every step-1 email fails, the failures
    and the backoff are recorded, step 2 is not even written while step 1 is undelivered.
    Once the server is up, each email arrives exactly once, and for every subscriber step
    k arrives before step k+1 (steps 1-3, all due at once: delay 0)."""
    subscribers = 5
    with time_machine.travel(timezone.now(), tick=False) as clock:
        create_subscribers(subscribers, step_delays=(0, 0, 0))
        assert services.send_due_steps() == subscribers
        run_worker()
        # Down for an hour: the scheduler and the worker run every 5 minutes.
        for _ in range(12):
            clock.shift(timedelta(minutes=5))
            services.send_due_steps()
            run_worker()
        deliveries = EmailDelivery.objects.all()
        assert deliveries.count() == subscribers  # step 1 only: step 2 waits for it
        assert all(d.sent_at is None and d.attempts >= 5 for d in deliveries)
        assert all("Connection refused" in d.last_error for d in deliveries)
        assert all(d.next_attempt_at > timezone.now() for d in deliveries)  # backing off

        with smtp_server(down_smtp_settings.EMAIL_PORT) as inbox:
            # The next retry is at most RETRY_MAX_DELAY away; keep the 5-minute rhythm.
            for _ in range(100):
                if len(inbox) == 3 * subscribers:
                    break
                clock.shift(timedelta(minutes=5))
                services.send_due_steps()
                run_worker()

    assert len(inbox) == 3 * subscribers
    received = {}
    for recipient, content in zip(inbox.recipients, inbox.contents, strict=True):
        received.setdefault(recipient, []).append(_subject(content))
    assert received == {address(n): [f"Step {k} of the live program" for k in (1, 2, 3)] for n in range(subscribers)}
    assert EmailDelivery.objects.filter(sent_at__isnull=False).count() == 3 * subscribers
    assert Signup.objects.filter(completed_at__isnull=False).count() == subscribers
