"""The subscriber's own page (/protocols/manage/<token>/): progress, pause and resume, time
zone, unsubscribe, data download and erasure, and every broken link answered with a page."""

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import signing
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from protocols.models import BouncedAddress, EmailDelivery, Signup, Step
from protocols.services import confirm_signup, due_time, enqueue_deliveries, erase_data, send_due_steps
from protocols.services.program import step_sent
from protocols.tokens import make_confirm_token, make_manage_token, make_unsubscribe_token

# Tuesday 2 December 2025, 10:00 UTC. Step 3 went out this morning at 08:00 local time; the
# steps are two days apart, so the next one is due on Thursday 4 December at 08:00.
NOW = datetime(2025, 12, 2, 10, 0, tzinfo=UTC)
LAST_SENT_DAY = datetime(2025, 12, 2).date()
LONDON, PARIS, NEW_YORK = ZoneInfo("Europe/London"), ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")
EMAIL = "reader@example.org"


def local(zone, day, hour=8):
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def program(make_protocol):
    """A protocol of seven steps: the first at confirmation, then one every two days at 08:00 London."""
    protocol = make_protocol(name="Sleep Test", slug="sleep-test", send_hour=8, time_zone="Europe/London")
    for position in range(1, 8):
        Step.objects.create(
            protocol=protocol,
            position=position,
            subject=f"Step {position}: evening light",
            body=f"Body of step {position}.",
            delay_days=0 if position == 1 else 2,
        )
    return protocol


@pytest.fixture
def make_subscriber(make_signup, frozen):
    def make(protocol, email=EMAIL, *, sent=3, time_zone="", **fields):
        """A confirmed subscriber who received the first `sent` steps, two days apart, the last
        one today at 08:00 in their zone; the next one planned as the scheduler would."""
        signup = make_signup(protocol, email, status=Signup.Status.CONFIRMED, time_zone=time_zone)
        zone = signup.zone
        steps = list(protocol.steps.order_by("position"))
        times = [local(zone, LAST_SENT_DAY - timedelta(days=2 * (sent - k))) for k in range(1, sent + 1)]
        for step, sent_at in zip(steps, times, strict=False):
            EmailDelivery.objects.create(
                signup=signup,
                kind=EmailDelivery.Kind.STEP,
                step=step,
                step_position=step.position,
                to_email=email,
                subject=step.subject,
                text_body=step.body,
                sent_at=sent_at,
            )
        started = times[0] if times else NOW
        signup.confirmed_at = signup.program_started_at = started
        signup.last_position_sent = sent
        signup.last_step_sent_at = times[-1] if times else None
        if sent < len(steps):
            signup.next_step_due_at = due_time(
                anchor=signup.last_step_sent_at or started,
                delay_days=steps[sent].delay_days,
                zone=zone,
                send_hour=protocol.send_hour,
            )
        else:
            signup.completed_at = times[-1]
        for name, value in fields.items():
            setattr(signup, name, value)
        signup.save()
        return signup

    return make


def manage_url(signup):
    return reverse("protocols:manage", kwargs={"token": make_manage_token(signup)})


def snapshot():
    """Everything a subscriber's action could change."""
    return (
        list(Signup.objects.order_by("pk").values()),
        list(EmailDelivery.objects.order_by("pk").values()),
        list(BouncedAddress.objects.order_by("pk").values()),
        DBTaskResult.objects.count(),
    )


def page_text(response):
    """The page's visible text on one line, tags removed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


# --- Progress -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_progress_sentence_names_the_next_email_in_the_subscribers_zone(program, make_subscriber):
    """ "3 of 7 emails sent; the next one on Thursday 4 December at 08:00": the weekday, date and
    hour are the subscriber's own (Paris here, 07:00 UTC), and the steps sent are listed with
    their local send time, the ones to come without."""
    signup = make_subscriber(program, time_zone="Europe/Paris")
    assert signup.next_step_due_at == datetime(2025, 12, 4, 7, 0, tzinfo=UTC)

    response = Client().get(manage_url(signup))

    assert response.status_code == 200
    text = page_text(response)
    assert "3 of 7 emails sent; the next one on Thursday 4 December at 08:00." in text
    assert "Your Sleep Test" in text and f"For {EMAIL}" in text
    assert "Step 3: evening light sent Tuesday 2 December, 08:00" in text
    assert "Step 1: evening light sent Friday 28 November, 08:00" in text
    assert re.search(r"<li>Step 4: evening light</li>", response.content.decode())
    assert response.content.decode().count("<li>Step ") == 7


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("paused", "3 of 7 emails sent; paused."),
        ("on its way", "3 of 7 emails sent; the next one is on its way."),
        ("completed", "7 of 7 emails sent: program completed."),
        ("unsubscribed", "You are unsubscribed: no more emails about the Sleep Test will come."),
        ("pending", "This address is not confirmed yet: use the link in the confirmation email."),
    ],
)
def test_progress_sentence_for_each_state(program, make_subscriber, state, expected):
    """Paused, a step on its way, completed, unsubscribed and unconfirmed subscribers each get
    their own plain sentence."""
    fields = {
        "paused": {"paused_at": NOW},
        "on its way": {"next_step_due_at": None},
        "completed": {"sent": 7},
        "unsubscribed": {"status": Signup.Status.UNSUBSCRIBED, "unsubscribed_at": NOW, "next_step_due_at": None},
        "pending": {"status": Signup.Status.PENDING, "sent": 0, "program_started_at": None, "confirmed_at": None},
    }[state]
    signup = make_subscriber(program, **fields)
    response = Client().get(manage_url(signup))
    assert response.status_code == 200
    assert expected in page_text(response)


@pytest.mark.django_db
def test_get_and_head_change_nothing(program, make_subscriber, make_protocol, make_signup):
    """Opening the page (even with an action in the query string, as a link scanner might)
    changes no row and queues nothing; the page is never cached and kept out of search engines;
    only known `done` messages are shown."""
    signup = make_subscriber(program)
    make_signup(make_protocol(), EMAIL.upper(), status=Signup.Status.CONFIRMED)
    BouncedAddress.objects.create(email="other@example.org", bounced_at=NOW)
    before = snapshot()
    client = Client()
    url = manage_url(signup)

    responses = [
        client.get(url),
        client.head(url),
        client.get(url, {"action": "erase", "confirm": "on"}),
        client.get(url, {"action": "unsubscribe"}),
        client.get(url, {"done": "<b>hacked</b>"}),
    ]

    assert [r.status_code for r in responses] == [200] * 5
    assert snapshot() == before
    assert "no-store" in responses[0]["Cache-Control"]
    assert '<meta name="robots" content="noindex">' in responses[0].content.decode()
    assert "hacked" not in responses[-1].content.decode()


# --- Actions --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pause_stops_the_program_and_says_so(program, make_subscriber, frozen):
    """Pause (POST) stamps paused_at, redirects back with a message, and the scheduler then
    sends nothing at the due time; pausing twice keeps the first date."""
    signup = make_subscriber(program)
    client = Client()
    url = manage_url(signup)

    response = client.post(url, {"action": "pause"})

    assert response.status_code == 302
    assert response["Location"] == f"{url}?done=paused"
    signup.refresh_from_db()
    assert signup.paused_at == NOW
    page = client.get(response["Location"])
    text = page_text(page)
    assert "Paused: no more emails until you resume." in text
    assert "3 of 7 emails sent; paused." in text
    assert "Paused since 2 December 2025." in text
    assert 'value="resume"' in page.content.decode() and 'value="pause"' not in page.content.decode()

    frozen.move_to(NOW + timedelta(days=1))
    client.post(url, {"action": "pause"})
    signup.refresh_from_db()
    assert signup.paused_at == NOW
    assert send_due_steps(now=NOW + timedelta(days=5)) == 0
    assert EmailDelivery.objects.filter(signup=signup).count() == 3


@pytest.mark.django_db
def test_resume_before_the_due_date_keeps_the_planned_time(program, make_subscriber, frozen):
    """Resumed before the next step was due: it goes out at its planned time, nothing sooner."""
    signup = make_subscriber(program, paused_at=NOW)
    frozen.move_to(datetime(2025, 12, 3, 12, tzinfo=UTC))

    response = Client().post(manage_url(signup), {"action": "resume"})

    assert response["Location"].endswith("?done=resumed")
    signup.refresh_from_db()
    assert signup.paused_at is None
    assert signup.next_step_due_at == local(LONDON, datetime(2025, 12, 4))
    assert EmailDelivery.objects.filter(signup=signup).count() == 3
    assert "Resumed: the next email follows the usual spacing." in page_text(Client().get(response["Location"]))


@pytest.mark.django_db
def test_resume_after_a_long_pause_sends_one_step_then_the_usual_spacing(program, make_subscriber, frozen):
    """Three weeks paused (four steps overdue): resuming queues exactly one step, and once it is
    sent the next is planned two days later at 08:00, never a burst."""
    signup = make_subscriber(program, paused_at=NOW)
    resumed_at = datetime(2025, 12, 23, 15, tzinfo=UTC)
    frozen.move_to(resumed_at)

    Client().post(manage_url(signup), {"action": "resume"})

    new = EmailDelivery.objects.filter(signup=signup, sent_at__isnull=True)
    assert [d.step_position for d in new] == [4]
    signup.refresh_from_db()
    assert signup.next_step_due_at is None  # on its way
    assert send_due_steps(now=resumed_at) == 0

    with transaction.atomic():
        delivery = new.get()
        EmailDelivery.objects.filter(pk=delivery.pk).update(sent_at=resumed_at)
        step_sent(delivery, sent_at=resumed_at)
    signup.refresh_from_db()
    assert signup.last_position_sent == 4
    assert signup.next_step_due_at == local(LONDON, datetime(2025, 12, 25))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("chosen", "expected_due"),
    [
        ("America/New_York", datetime(2025, 12, 4, 13, tzinfo=UTC)),
        ("Asia/Tokyo", datetime(2025, 12, 3, 23, tzinfo=UTC)),
        ("", datetime(2025, 12, 4, 8, tzinfo=UTC)),  # back to the protocol's zone (London)
    ],
)
def test_time_zone_choice_is_saved_and_replans_the_next_email(program, make_subscriber, chosen, expected_due):
    """The chosen IANA zone is stored and the next email moves to 08:00 in that zone; the empty
    choice means the protocol's zone. The select shows the saved choice."""
    signup = make_subscriber(program, time_zone="Europe/Paris")
    client = Client()

    response = client.post(manage_url(signup), {"action": "time_zone", "time_zone": chosen})

    assert response.status_code == 302
    assert response["Location"].endswith("?done=time_zone")
    signup.refresh_from_db()
    assert signup.time_zone == chosen
    assert signup.next_step_due_at == expected_due
    page = client.get(response["Location"])
    assert "Time zone saved" in page_text(page)
    assert re.search(rf'<option value="{re.escape(chosen)}" selected>', page.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "europe/paris", "Europe/Paris\x00", "x" * 500])
def test_invalid_time_zone_is_refused_with_a_clear_message(program, make_subscriber, bad):
    """A zone not in the list is a 400 with a message tied to the field; nothing changes."""
    signup = make_subscriber(program)
    before = snapshot()

    response = Client().post(manage_url(signup), {"action": "time_zone", "time_zone": bad})

    assert response.status_code == 400
    html = response.content.decode()
    assert '<ul class="errorlist" id="id_time_zone_error"' in html
    assert "Choose a time zone from the list." in html
    select = re.search(r"<select [^>]*>", html).group(0)
    assert 'aria-invalid="true"' in select and 'aria-describedby="id_time_zone_error"' in select
    assert "autofocus" in select  # the page reloads at the top: the field to fix takes the focus
    assert snapshot() == before


@pytest.mark.django_db
def test_unsubscribe_stops_everything_and_the_page_still_offers_the_data(program, make_subscriber):
    """Unsubscribe (POST) sets the status and date and clears the next step; the page then says
    so, offers no pause or time zone, but still the download and erasure; a later pause does nothing."""
    signup = make_subscriber(program)
    client = Client()
    url = manage_url(signup)

    response = client.post(url, {"action": "unsubscribe"})

    assert response["Location"] == f"{url}?done=unsubscribed"
    signup.refresh_from_db()
    assert signup.status == Signup.Status.UNSUBSCRIBED
    assert signup.unsubscribed_at == NOW
    assert signup.next_step_due_at is None
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Unsubscribed: you will get no more emails about this protocol." in page_text(page)
    assert 'value="pause"' not in html and 'value="time_zone"' not in html
    assert 'value="export"' in html and 'value="erase"' in html

    client.post(url, {"action": "pause"})
    signup.refresh_from_db()
    assert signup.paused_at is None


@pytest.mark.django_db
def test_download_is_a_json_file_of_everything_stored(program, make_subscriber):
    """The JSON download is an attachment named after the protocol, never cached, and holds the
    address, protocol, consent text and time, status and every email with its send time; it
    changes nothing."""
    signup = make_subscriber(program, time_zone="Europe/Paris")
    before = snapshot()

    response = Client().post(manage_url(signup), {"action": "export"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="sleep-test-my-data.json"'
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["email"] == EMAIL
    assert data["protocol"] == "Sleep Test"
    assert data["consent_text"] == "I agree to receive these emails."
    assert data["consented_at"] == NOW.isoformat()
    assert data["status"] == "confirmed"
    assert data["time_zone"] == "Europe/Paris"
    assert data["bounced"] is False
    assert [(e["kind"], e["subject"], e["sent_at"]) for e in data["emails"]] == [
        ("step", "Step 1: evening light", "2025-11-28T07:00:00+00:00"),
        ("step", "Step 2: evening light", "2025-11-30T07:00:00+00:00"),
        ("step", "Step 3: evening light", "2025-12-02T07:00:00+00:00"),
    ]
    assert snapshot() == before


@pytest.mark.django_db
def test_erase_deletes_every_signup_of_the_address_and_says_so(program, make_subscriber, make_protocol, make_signup):
    """Erasure deletes the address's signups on every protocol (any letter case), their
    deliveries and the bounce record, leaves other subscribers alone, and the page says so;
    the old links then get the "no longer works" page."""
    signup = make_subscriber(program)
    other_protocol = make_protocol()
    second = make_signup(other_protocol, "Reader@Example.org")
    EmailDelivery.objects.create(signup=second, to_email=second.email, sent_at=NOW)
    BouncedAddress.objects.create(email="READER@example.org", bounced_at=NOW)
    bystander = make_subscriber(program, "other@example.org")
    BouncedAddress.objects.create(email="other@example.org", bounced_at=NOW)
    bystander_rows = EmailDelivery.objects.filter(signup=bystander).count()

    response = Client().post(manage_url(signup), {"action": "erase", "confirm": "on"})

    assert response.status_code == 200
    text = page_text(response)
    assert "Your data is erased" in text
    assert "Your signups and the record of the emails sent to your address are deleted." in text
    assert not Signup.objects.filter(email__iexact=EMAIL).exists()
    assert not EmailDelivery.objects.filter(to_email__iexact=EMAIL).exists()
    assert not BouncedAddress.objects.filter(email__iexact=EMAIL).exists()
    assert list(Signup.objects.all()) == [bystander]
    assert EmailDelivery.objects.filter(signup=bystander).count() == bystander_rows == 3
    assert BouncedAddress.objects.filter(email="other@example.org").exists()

    for url in (manage_url(signup), manage_url(second)):
        gone = Client().get(url)
        assert gone.status_code == 400
        assert "This link no longer works" in page_text(gone)


@pytest.mark.django_db
def test_erase_without_the_confirmation_box_is_refused_with_a_clear_message(program, make_subscriber):
    """Without the box ticked nothing is deleted: a 400 with the reason tied to the checkbox."""
    signup = make_subscriber(program)
    before = snapshot()

    response = Client().post(manage_url(signup), {"action": "erase"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Tick the box to confirm that you want your data erased." in html
    checkbox = re.search(r'<input type="checkbox"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in checkbox and 'aria-describedby="id_confirm_error"' in checkbox
    assert "autofocus" in checkbox
    assert 'id="id_confirm_error"' in html
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["delete_everything", "", "PAUSE", None])
def test_unknown_action_is_a_400_that_changes_nothing(program, make_subscriber, action):
    """An unknown or missing action gets the page back with a 400 and a plain message."""
    signup = make_subscriber(program)
    before = snapshot()

    response = Client().post(manage_url(signup), {} if action is None else {"action": action})

    assert response.status_code == 400
    assert "That request was not understood. Use one of the buttons below." in page_text(response)
    assert snapshot() == before


# --- Broken links ---------------------------------------------------------------------------


def _forged(kind, signup):
    token = make_manage_token(signup)
    return {
        "garbage": "garbage",
        "truncated": token[: len(token) // 2],
        "last character dropped": token[:-1],
        "signature altered": token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
        "unsubscribe token": make_unsubscribe_token(signup),
        "confirm token": make_confirm_token(signup),
        "another address": signing.dumps({"s": signup.pk, "e": "0" * 20}, salt="protocols.manage", compress=True),
        "no such signup": signing.dumps({"s": 999_999, "e": "0" * 20}, salt="protocols.manage"),
        "payload not a dict": signing.dumps([signup.pk], salt="protocols.manage"),
        "id not a number": signing.dumps({"s": str(signup.pk), "e": "x"}, salt="protocols.manage"),
        "non-ASCII": "é:ü:ß",
        "very long": "a" * 3000,
        "NUL byte": token[:10] + "\x00" + token[10:],
    }[kind]


FORGERIES = [
    "garbage",
    "truncated",
    "last character dropped",
    "signature altered",
    "unsubscribe token",
    "confirm token",
    "another address",
    "no such signup",
    "payload not a dict",
    "id not a number",
    "non-ASCII",
    "very long",
    "NUL byte",
]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", FORGERIES)
def test_broken_or_forged_link_gets_the_link_no_longer_works_page(program, make_subscriber, kind):
    """A forged, garbled or truncated token is a 400 page that explains itself (never a 500),
    for GET and for every POST action, and changes nothing."""
    signup = make_subscriber(program)
    url = reverse("protocols:manage", kwargs={"token": _forged(kind, signup)})
    before = snapshot()
    client = Client(raise_request_exception=False)

    responses = [client.get(url)] + [
        client.post(url, {"action": action, "confirm": "on", "time_zone": "Asia/Tokyo"})
        for action in ("erase", "unsubscribe", "pause", "time_zone", "export")
    ]

    for response in responses:
        assert response.status_code == 400
        assert "This link no longer works" in page_text(response)
        assert program.get_absolute_url() in response.content.decode()
    assert snapshot() == before


# --- Around the page ------------------------------------------------------------------------


@pytest.mark.django_db
def test_confirmation_page_links_to_the_subscribers_page(program, make_signup):
    """Confirming shows a link to the subscriber's own page, which opens on their program."""
    signup = make_signup(program)
    client = Client()

    response = client.post(reverse("protocols:confirm", args=[make_confirm_token(signup)]))

    assert response.status_code == 200
    link = re.search(r'href="(/protocols/manage/[^"/]+/)">your own page</a>', response.content.decode())
    assert link
    assert link.group(1) == manage_url(signup)
    page = client.get(link.group(1))
    assert page.status_code == 200
    assert "Your Sleep Test" in page_text(page)
    assert "0 of 7 emails sent; the next one is on its way." in page_text(page)


@pytest.mark.django_db
def test_the_page_costs_the_same_queries_however_many_steps_were_sent(program, make_subscriber, make_protocol):
    """The number of queries does not grow with the steps sent (one query for all of them)."""
    few = make_subscriber(program, sent=1)
    many = make_subscriber(program, "many@example.org", sent=6)
    client = Client()
    client.get(manage_url(few))  # warm the per-process caches (banner, templates)
    counts = []
    for signup in (few, many):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(manage_url(signup)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 6


@pytest.mark.django_db
def test_bounced_address_is_told_on_the_page(program, make_subscriber):
    """A subscriber whose address bounced sees why the emails stopped."""
    signup = make_subscriber(program)
    BouncedAddress.objects.create(email=EMAIL.upper(), bounced_at=NOW)
    text = page_text(Client().get(manage_url(signup)))
    assert "Emails to this address were refused by its mail server" in text


@pytest.mark.django_db
def test_link_of_an_erased_signup_no_longer_works(program, make_signup, frozen):
    """A confirmed subscriber's link works until their data is erased, then gets the
    "no longer works" page with a 400."""
    signup = make_signup(program)
    confirm_signup(signup=signup)
    signup.refresh_from_db()
    assert "0 of 7 emails sent; the next one is on its way." in page_text(Client().get(manage_url(signup)))
    erase_data(signup=signup)
    response = Client().get(manage_url(signup))
    assert response.status_code == 400
    assert "This link no longer works" in page_text(response)


@pytest.mark.django_db
def test_pausing_with_a_step_on_its_way_holds_it_and_resuming_sends_it_once(
    program, make_subscriber, frozen, worker, mailoutbox, django_capture_on_commit_callbacks
):
    """A step already queued when the subscriber pauses is not sent (the worker skips it);
    resuming queues that same step again, once, and the worker sends exactly one email."""
    signup = make_subscriber(program, next_step_due_at=None)
    step = program.steps.get(position=4)
    due = datetime(2025, 12, 4, 8, tzinfo=UTC)
    frozen.move_to(due)  # step 4 is due: the scheduler queued it
    with django_capture_on_commit_callbacks(execute=True):
        queued = EmailDelivery.objects.create(
            signup=signup,
            kind=EmailDelivery.Kind.STEP,
            step=step,
            step_position=4,
            to_email=EMAIL,
            next_attempt_at=due,
        )
        transaction.on_commit(lambda: enqueue_deliveries([queued.pk]))
    client = Client()
    url = manage_url(signup)

    client.post(url, {"action": "pause"})
    worker()
    queued.refresh_from_db()
    assert queued.skipped_reason == "signup paused" and mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "resume"})
    worker()

    assert [m.subject for m in mailoutbox] == ["Step 4: evening light"]
    assert EmailDelivery.objects.filter(signup=signup, step=step, sent_at__isnull=False).count() == 1
    signup.refresh_from_db()
    assert signup.last_position_sent == 4
