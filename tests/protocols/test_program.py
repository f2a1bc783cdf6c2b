"""A protocol's program: steps due on time, in order, once, through the scheduler and the real worker."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction

from protocols import services
from protocols.models import BouncedAddress, EmailDelivery, Protocol, Signup, Step
from tests.helpers import run_worker

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")


def at(*args, zone=LONDON):
    return datetime(*args, tzinfo=zone)


@pytest.fixture
def program(make_protocol):
    """A protocol in London time, sending at 08:00: welcome at once, then steps 2 and 3 days apart."""
    protocol = make_protocol(time_zone="Europe/London", send_hour=8)
    for position, (subject, delay) in enumerate([("Welcome", 0), ("Day two", 2), ("Day five", 3)], start=1):
        Step.objects.create(
            protocol=protocol, position=position, subject=subject, delay_days=delay, body=f"Body of {subject}."
        )
    return protocol


def join(protocol, email, capture):
    """Sign up and confirm at once (the queued confirmation email is then skipped by the worker)."""
    with capture(execute=True):
        signup = services.create_signup(protocol=protocol, email=email)
    with capture(execute=True):
        return services.confirm_signup(signup=signup)


def subjects():
    return [message.subject for message in mail.outbox]


def scheduler_pass(capture):
    with capture(execute=True):
        return services.send_due_steps()


@pytest.mark.django_db
def test_the_first_step_goes_out_at_confirmation_through_the_worker(program, django_capture_on_commit_callbacks):
    """Confirming queues step 1 (delay 0) in the outbox; the worker sends it with no scheduler pass."""
    with time_machine.travel(at(2026, 12, 1, 14, 30), tick=False):
        signup = join(program, "reader@example.org", django_capture_on_commit_callbacks)
        assert signup.program_started_at is not None
        run_worker()
    assert subjects() == ["Welcome"]
    delivery = EmailDelivery.objects.get(kind="step")
    assert delivery.sent_at is not None and delivery.step.position == 1
    signup.refresh_from_db()
    assert signup.last_position_sent == 1
    # Step 2 (delay 2): 08:00 London time on the local day two days after step 1 was sent.
    assert signup.next_step_due_at == at(2026, 12, 3, 8, 0)


@pytest.mark.django_db
def test_day_delayed_steps_go_out_at_the_send_hour_and_then_the_program_completes(
    program, django_capture_on_commit_callbacks
):
    """Nothing before the due time; each step at 08:00 local; after the last one the program is completed."""
    with time_machine.travel(at(2026, 12, 1, 14, 30), tick=False):
        signup = join(program, "reader@example.org", django_capture_on_commit_callbacks)
        run_worker()
    with time_machine.travel(at(2026, 12, 3, 7, 59), tick=False):
        assert scheduler_pass(django_capture_on_commit_callbacks) == 0
    with time_machine.travel(at(2026, 12, 3, 8, 0), tick=False):
        assert scheduler_pass(django_capture_on_commit_callbacks) == 1
        run_worker()
    assert subjects() == ["Welcome", "Day two"]
    signup.refresh_from_db()
    assert signup.next_step_due_at == at(2026, 12, 6, 8, 0)
    with time_machine.travel(at(2026, 12, 6, 8, 0, 30), tick=False):
        assert scheduler_pass(django_capture_on_commit_callbacks) == 1
        run_worker()
    signup.refresh_from_db()
    assert subjects() == ["Welcome", "Day two", "Day five"]
    assert signup.completed_at is not None and signup.next_step_due_at is None
    with time_machine.travel(at(2026, 12, 20, 8, 0), tick=False):
        assert scheduler_pass(django_capture_on_commit_callbacks) == 0


@pytest.mark.django_db
def test_the_send_hour_stays_local_across_a_daylight_saving_change(program, django_capture_on_commit_callbacks):
    """London leaves summer time on 25 October 2026: 08:00 local is 07:00 UTC before and 08:00 UTC after."""
    with time_machine.travel(at(2026, 10, 22, 9, 0), tick=False):
        signup = join(program, "reader@example.org", django_capture_on_commit_callbacks)
        run_worker()
        signup.refresh_from_db()
    assert signup.next_step_due_at == datetime(2026, 10, 24, 7, 0, tzinfo=UTC)  # BST
    with time_machine.travel(signup.next_step_due_at, tick=False):
        scheduler_pass(django_capture_on_commit_callbacks)
        run_worker()
    signup.refresh_from_db()
    assert signup.next_step_due_at == datetime(2026, 10, 27, 8, 0, tzinfo=UTC)  # GMT
    assert signup.next_step_due_at.astimezone(LONDON).hour == 8


@pytest.mark.django_db
def test_the_subscribers_own_time_zone_sets_the_hour(program, django_capture_on_commit_callbacks):
    """A subscriber in New York gets day-delayed steps at 08:00 New York time."""
    with time_machine.travel(at(2026, 12, 1, 14, 30), tick=False):
        signup = join(program, "reader@example.org", django_capture_on_commit_callbacks)
        run_worker()
        signup = services.set_time_zone(signup=signup, time_zone="America/New_York")
    assert signup.next_step_due_at == datetime(2026, 12, 3, 8, 0, tzinfo=ZoneInfo("America/New_York"))


@pytest.mark.django_db
def test_no_backlog_burst_after_the_scheduler_was_down(program, django_capture_on_commit_callbacks):
    """Ten days without a scheduler: one pass sends the one step due, the next keeps its spacing from it."""
    with time_machine.travel(at(2026, 12, 1, 14, 30), tick=False):
        signup = join(program, "reader@example.org", django_capture_on_commit_callbacks)
        run_worker()
    with time_machine.travel(at(2026, 12, 11, 15, 0), tick=False):
        assert scheduler_pass(django_capture_on_commit_callbacks) == 1
        run_worker()
        assert scheduler_pass(django_capture_on_commit_callbacks) == 0
        run_worker()
    assert subjects() == ["Welcome", "Day two"]
    signup.refresh_from_db()
    assert signup.next_step_due_at == at(2026, 12, 14, 8, 0)  # three local days after 11 December


@pytest.mark.django_db
def test_pause_sends_nothing_and_resume_continues_with_one_step(program, django_capture_on_commit_callbacks):
    """Paused: the scheduler skips the subscriber. Resumed weeks later: one step now, then the usual spacing."""
    with time_machine.travel(at(2026, 12, 1, 14, 30), tick=False):
        signup = join(program, "reader@example.org", django_capture_on_commit_callbacks)
        run_worker()
        services.pause(signup=signup)
    with time_machine.travel(at(2026, 12, 10, 8, 0), tick=False):
        assert scheduler_pass(django_capture_on_commit_callbacks) == 0
    with time_machine.travel(at(2026, 12, 20, 10, 0), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            signup = services.resume(signup=signup)
        run_worker()
        assert scheduler_pass(django_capture_on_commit_callbacks) == 0
    assert subjects() == ["Welcome", "Day two"]
    signup.refresh_from_db()
    assert signup.next_step_due_at == at(2026, 12, 23, 8, 0)


@pytest.mark.django_db
def test_the_worker_checks_again_and_records_why_it_skipped(program, make_signup, django_capture_on_commit_callbacks):
    """Unsubscribed, paused or bounced between scheduling and sending: nothing is sent, the reason is kept."""
    with time_machine.travel(at(2026, 12, 1, 14, 30), tick=False):
        signups = [join(program, f"r{i}@example.org", django_capture_on_commit_callbacks) for i in range(3)]
    services.unsubscribe(signup=signups[0])
    services.pause(signup=signups[1])
    BouncedAddress.objects.create(email="R2@example.org", bounced_at=signups[2].confirmed_at)
    with time_machine.travel(at(2026, 12, 1, 14, 31), tick=False):
        run_worker()
    assert mail.outbox == []
    reasons = dict(EmailDelivery.objects.filter(kind="step").values_list("to_email", "skipped_reason"))
    assert reasons == {
        "r0@example.org": "signup unsubscribed",
        "r1@example.org": "signup paused",
        "r2@example.org": "address bounced",
    }


@pytest.mark.django_db
def test_an_erased_subscriber_gets_nothing(program, django_capture_on_commit_callbacks):
    """Erasing the data between scheduling and sending deletes the delivery: the worker sends nothing."""
    signup = join(program, "reader@example.org", django_capture_on_commit_callbacks)
    services.erase_data(signup=signup)
    run_worker()
    assert mail.outbox == []
    assert not Signup.objects.exists() and not EmailDelivery.objects.exists()


@pytest.mark.django_db
def test_one_delivery_per_subscriber_and_step_is_a_database_constraint(program, django_capture_on_commit_callbacks):
    """A second delivery of the same step is refused by the database; a pass run twice writes nothing more."""
    signup = join(program, "reader@example.org", django_capture_on_commit_callbacks)
    step = program.steps.get(position=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        EmailDelivery.objects.create(signup=signup, kind="step", step=step, to_email=signup.email)
    Signup.objects.filter(pk=signup.pk).update(next_step_due_at=signup.confirmed_at, last_position_sent=0)
    scheduler_pass(django_capture_on_commit_callbacks)  # would pick step 1 again: it already has its delivery
    assert EmailDelivery.objects.filter(kind="step", step=step).count() == 1


@pytest.mark.django_db
def test_steps_without_delay_follow_each_other_in_order(make_protocol, django_capture_on_commit_callbacks):
    """Step k+1 is written only after step k was sent: three delay-0 steps arrive 1, 2, 3."""
    protocol = make_protocol()
    for position in (3, 1, 2):
        Step.objects.create(protocol=protocol, position=position, subject=f"Step {position}", body="x", delay_days=0)
    join(protocol, "reader@example.org", django_capture_on_commit_callbacks)
    assert EmailDelivery.objects.filter(kind="step").count() == 1
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            run_worker()
    assert subjects() == ["Step 1", "Step 2", "Step 3"]
    assert Signup.objects.get().completed_at is not None


@pytest.mark.django_db
def test_a_delivery_keeps_what_was_sent_and_an_edit_changes_only_what_comes(
    program, django_capture_on_commit_callbacks
):
    """Editing a step after it was sent leaves the delivery's subject and text as they were sent."""
    signup = join(program, "reader@example.org", django_capture_on_commit_callbacks)
    run_worker()
    welcome = program.steps.get(position=1)
    welcome.subject, welcome.body = "Edited welcome", "New text."
    welcome.save()
    delivery = EmailDelivery.objects.get(kind="step")
    assert delivery.subject == "Welcome"
    assert "Body of Welcome." in delivery.text_body and "Body of Welcome." in delivery.html_body
    assert "New text" not in delivery.text_body
    second = program.steps.get(position=2)
    second.body = "Fresh day two text."
    second.save()
    Signup.objects.filter(pk=signup.pk).update(next_step_due_at=signup.confirmed_at)
    scheduler_pass(django_capture_on_commit_callbacks)
    run_worker()
    assert "Fresh day two text." in mail.outbox[-1].body


@pytest.mark.django_db
def test_added_deleted_and_reordered_steps(program, django_capture_on_commit_callbacks):
    """A step added after the subscriber's place reaches them; one added before does not; a deleted step is
    skipped; moving a sent step to a later position never sends it again."""
    signup = join(program, "reader@example.org", django_capture_on_commit_callbacks)
    run_worker()  # step 1 sent: progress is position 1
    Step.objects.create(protocol=program, position=0, subject="Back-fill", body="x")
    program.steps.filter(position=2).delete()
    program.steps.filter(position=1).update(position=5)  # the sent welcome moves to the end
    Step.objects.create(protocol=program, position=4, subject="Added later", body="x", delay_days=1)
    services.reschedule_protocol(program.pk)
    sent = []
    for _ in range(4):
        Signup.objects.filter(pk=signup.pk, next_step_due_at__isnull=False).update(
            next_step_due_at=signup.confirmed_at
        )
        scheduler_pass(django_capture_on_commit_callbacks)
        run_worker()
    sent = subjects()
    assert sent == ["Welcome", "Day five", "Added later"]
    signup.refresh_from_db()
    assert signup.completed_at is not None


@pytest.mark.django_db
def test_a_step_added_after_completion_reaches_the_subscriber(program, django_capture_on_commit_callbacks):
    """Completed subscribers are planned again when staff add a step at the end."""
    signup = join(program, "reader@example.org", django_capture_on_commit_callbacks)
    run_worker()
    program.steps.filter(position__gt=1).delete()
    scheduler_pass(django_capture_on_commit_callbacks)  # nothing due, and nothing left
    services.reschedule_protocol(program.pk)
    signup.refresh_from_db()
    assert signup.completed_at is not None
    Step.objects.create(protocol=program, position=9, subject="Bonus", body="x", delay_days=1)
    services.reschedule_protocol(program.pk)
    signup.refresh_from_db()
    assert signup.completed_at is None and signup.next_step_due_at is not None


@pytest.mark.django_db
def test_waitlist_subscribers_enter_the_program_when_staff_open_it(make_protocol, django_capture_on_commit_callbacks):
    """Confirmed on a waitlist: nothing is sent. Opening the protocol (through the worker) starts the program;
    closing it later stops new signups, not the program."""
    protocol = make_protocol(status=Protocol.Status.UPCOMING)
    Step.objects.create(protocol=protocol, position=1, subject="Welcome", body="x")
    Step.objects.create(protocol=protocol, position=2, subject="Next", body="x", delay_days=1)
    signup = join(protocol, "early@example.org", django_capture_on_commit_callbacks)
    run_worker()
    assert mail.outbox == [] and signup.program_started_at is None
    protocol.status = Protocol.Status.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        protocol.save()
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()  # enters the waitlist, queues step 1
    run_worker()
    assert subjects() == ["Welcome"]
    protocol.status = Protocol.Status.CLOSED
    protocol.save()
    signup.refresh_from_db()
    with time_machine.travel(signup.next_step_due_at, tick=False):
        scheduler_pass(django_capture_on_commit_callbacks)
        run_worker()
    assert subjects() == ["Welcome", "Next"]


@pytest.mark.django_db
def test_confirmed_subscribers_from_before_programs_existed_enter_at_the_next_pass(
    program, make_signup, django_capture_on_commit_callbacks
):
    """A confirmed signup with no program yet (older data) enters at the scheduler's next pass."""
    make_signup(program, status=Signup.Status.CONFIRMED, confirmed_at=at(2026, 11, 1, 9, 0))
    assert scheduler_pass(django_capture_on_commit_callbacks) == 0  # entering queues step 1 itself
    run_worker()
    assert subjects() == ["Welcome"]


@pytest.mark.django_db
def test_a_permanent_refusal_marks_the_address_and_stops_its_programs(
    program, make_protocol, django_capture_on_commit_callbacks, settings
):
    """SMTP 550 for an address: marked bounced, no retry, no program email on any protocol; lifting resumes."""
    other = make_protocol()
    Step.objects.create(protocol=other, position=1, subject="Other welcome", body="x")
    settings.EMAIL_BACKEND = "tests.protocols.test_program.RefusingBackend"
    join(program, "gone@example.org", django_capture_on_commit_callbacks)
    run_worker()
    delivery = EmailDelivery.objects.get(kind="step")
    assert delivery.skipped_reason == "address bounced" and delivery.next_attempt_at is None
    assert "550" in delivery.last_error
    bounced = BouncedAddress.objects.get()
    assert bounced.email == "gone@example.org"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    join(other, "Gone@example.org", django_capture_on_commit_callbacks)
    run_worker()
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        services.lift_bounce(bounced=bounced)
    run_worker()
    assert sorted(subjects()) == ["Other welcome", "Welcome"]


@pytest.mark.django_db
def test_a_temporary_refusal_is_retried(program, django_capture_on_commit_callbacks, settings):
    """SMTP 451 is temporary: the delivery waits for a retry and the address is not marked."""
    settings.EMAIL_BACKEND = "tests.protocols.test_program.BusyBackend"
    join(program, "busy@example.org", django_capture_on_commit_callbacks)
    run_worker()
    delivery = EmailDelivery.objects.get(kind="step")
    assert delivery.attempts == 1 and delivery.next_attempt_at is not None and delivery.skipped_reason == ""
    assert not BouncedAddress.objects.exists()


@pytest.mark.django_db
def test_send_due_steps_command_reports_its_pass(program, django_capture_on_commit_callbacks):
    """`manage.py send_due_steps` makes one pass and says what it scheduled."""
    import io

    signup = join(program, "reader@example.org", django_capture_on_commit_callbacks)
    run_worker()
    signup.refresh_from_db()
    out = io.StringIO()
    with time_machine.travel(signup.next_step_due_at + timedelta(minutes=1), tick=False):
        call_command("send_due_steps", stdout=out)
    assert out.getvalue().startswith("Scheduled 1 program email(s)")


class _Refusing:
    code, text = 550, b"5.1.1 mailbox does not exist"

    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        pass

    def close(self):
        pass

    def send_messages(self, messages):
        import smtplib

        recipients = {address: (self.code, self.text) for m in messages for address in m.recipients()}
        raise smtplib.SMTPRecipientsRefused(recipients)


class RefusingBackend(_Refusing):
    """An SMTP server that refuses every recipient for good (550)."""


class BusyBackend(_Refusing):
    """An SMTP server that asks to try later (451)."""

    code, text = 451, b"4.7.1 try again later"


@pytest.mark.django_db
def test_a_step_deleted_while_on_its_way_is_skipped_and_the_next_one_takes_its_place(
    make_protocol, django_capture_on_commit_callbacks
):
    """Staff delete the step the worker is about to send: it is skipped and the following step goes instead."""
    protocol = make_protocol()
    for position in (1, 2):
        Step.objects.create(protocol=protocol, position=position, subject=f"Step {position}", body="x")
    join(protocol, "reader@example.org", django_capture_on_commit_callbacks)
    protocol.steps.get(position=1).delete()
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    run_worker()
    assert subjects() == ["Step 2"]
    assert EmailDelivery.objects.get(kind="step", step__isnull=True).skipped_reason == "step deleted"
