import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from protocols.admin import csv_safe
from protocols.charts import signups_per_day
from protocols.models import BouncedAddress, EmailDelivery, Signup, Step
from tests.helpers import log_in_staff


def staff_with(*codenames, username="staff"):
    user = User.objects.create_user(username, password="pw", is_staff=True)
    for code in codenames:
        app_label, codename = code.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return log_in_staff(Client(), user)


def export(client, queryset_ids, **extra):
    return client.post(
        reverse("admin:protocols_signup_changelist"),
        {"action": "export_csv", "_selected_action": [str(pk) for pk in queryset_ids], **extra},
    )


def read_csv(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.django_db
def test_protocol_list_shows_counts_without_a_query_per_row(
    admin_client, make_protocol, make_signup, django_assert_max_num_queries
):
    """Pending/confirmed/unsubscribed counts come from one annotated query, however many protocols."""
    for i in range(5):
        protocol = make_protocol()
        make_signup(protocol, f"p{i}@example.org")
        make_signup(protocol, f"c{i}@example.org", status="confirmed")
        make_signup(protocol, f"u{i}@example.org", status="unsubscribed")
        make_signup(protocol, f"u2{i}@example.org", status="unsubscribed")
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:protocols_protocol_changelist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<td class="field-pending_count">1</td>' in html
    assert '<td class="field-unsubscribed_count">2</td>' in html


@pytest.mark.django_db
def test_change_page_has_a_server_rendered_svg_chart_of_30_days(admin_client, protocol, make_signup):
    """Each protocol's change page shows signups per day for 30 days as inline SVG (no JavaScript)."""
    make_signup(protocol, "today@example.org")
    old = make_signup(protocol, "old@example.org")
    Signup.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    html = admin_client.get(reverse("admin:protocols_protocol_change", args=[protocol.pk])).content.decode()
    assert "Signups per day, last 30 days" in html
    assert '<svg role="img"' in html
    assert html.count('class="signup-chart__bar"') == 30
    assert "1 signup from" in html  # the 40-day-old one is outside the window
    assert "<script" not in html.split("signup-chart")[1].split("</svg>")[0]


@pytest.mark.django_db
def test_signups_per_day_fills_empty_days(protocol, make_signup):
    """The chart series has one entry per day, zeros included, ending today."""
    make_signup(protocol, "a@example.org")
    make_signup(protocol, "b@example.org")
    series = signups_per_day(protocol)
    assert len(series) == 30
    assert series[-1] == (timezone.localdate(), 2)
    assert sum(n for _, n in series) == 2


@pytest.mark.django_db
def test_signup_list_filters_and_search(admin_client, protocol, make_protocol, make_signup):
    """Signups can be filtered by protocol, status and date and searched by email."""
    other = make_protocol()
    make_signup(protocol, "findme@example.org", status="confirmed")
    make_signup(other, "someone@example.org")
    url = reverse("admin:protocols_signup_changelist")
    html = admin_client.get(url, {"q": "findme"}).content.decode()
    assert "findme@example.org" in html and "someone@example.org" not in html
    html = admin_client.get(url, {"status__exact": "pending"}).content.decode()
    assert "someone@example.org" in html and "findme@example.org" not in html
    html = admin_client.get(url, {"protocol__id__exact": other.pk}).content.decode()
    assert "someone@example.org" in html and "findme@example.org" not in html
    today = timezone.localdate()
    html = admin_client.get(url, {"created_at__year": today.year}).content.decode()
    assert "findme@example.org" in html


@pytest.mark.django_db
def test_export_streams_csv_with_formula_cells_neutralised(protocol, make_signup):
    """The export streams a CSV; cells starting with = + - @ are prefixed so spreadsheets run nothing."""
    a = make_signup(protocol, "=HYPERLINK(1)@example.org")
    b = make_signup(protocol, "plain@example.org")
    client = staff_with("protocols.view_signup", "protocols.export_signups")
    response = export(client, [a.pk, b.pk])
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:3] == ["email", "protocol", "status"]
    emails = [row[0] for row in rows[1:]]
    assert emails == ["'=HYPERLINK(1)@example.org", "plain@example.org"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("ok", "ok"),
        (None, ""),
    ],
)
def test_csv_safe(value, expected):
    """Each formula-starting character is neutralised; plain values are untouched."""
    assert csv_safe(value) == expected


@pytest.mark.django_db
def test_export_needs_the_export_permission(protocol, make_signup):
    """Staff who can only view signups do not get the export action."""
    signup = make_signup(protocol)
    client = staff_with("protocols.view_signup")
    page = client.get(reverse("admin:protocols_signup_changelist")).content.decode()
    assert "export_csv" not in page
    response = export(client, [signup.pk])
    assert not isinstance(response, StreamingHttpResponse)


@pytest.mark.django_db
def test_export_of_100000_rows_streams(protocol, admin_client):
    """Selecting all of 100,000 signups exports every row, streamed in chunks."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [(protocol.pk, f"r{i}@example.org", "pending", "x", now, now) for i in range(100_000)]
    with connection.cursor() as cursor:  # raw executemany: bulk_create would take most of the test's time
        cursor.executemany(
            "INSERT INTO protocols_signup (protocol_id, email, status, consent_text, consented_at, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            rows,
        )
    response = admin_client.post(
        reverse("admin:protocols_signup_changelist"),
        {"action": "export_csv", "select_across": "1", "index": "0", "_selected_action": ["1"]},
    )
    assert isinstance(response, StreamingHttpResponse)
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    assert lines == 100_001


@pytest.mark.django_db
def test_resend_confirmation_action_queues_for_pending_only(
    admin_client, protocol, make_signup, django_capture_on_commit_callbacks
):
    """ "Resend confirmation" queues an email for pending signups and skips the others."""
    pending = make_signup(protocol, "p@example.org", confirmation_sent_at=timezone.now())
    confirmed = make_signup(protocol, "c@example.org", status="confirmed")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:protocols_signup_changelist"),
            {"action": "resend_confirmation", "_selected_action": [pending.pk, confirmed.pk]},
            follow=True,
        )
    assert "Confirmation queued for 1 pending signup(s)." in response.content.decode()
    assert list(EmailDelivery.objects.values_list("signup_id", flat=True)) == [pending.pk]


@pytest.mark.django_db
def test_signups_cannot_be_added_in_the_admin(admin_client):
    """Signups only come from the public form, with the subscriber's consent."""
    assert admin_client.get(reverse("admin:protocols_signup_add")).status_code == 403


@pytest.mark.django_db
def test_undelivered_emails_are_visible_to_staff(admin_client, protocol, make_signup):
    """The email deliveries list shows failing deliveries with their error, filterable as undelivered."""
    signup = make_signup(protocol)
    EmailDelivery.objects.create(signup=signup, to_email=signup.email, attempts=3, last_error="SMTPConnectError: down")
    EmailDelivery.objects.create(signup=signup, to_email="sent@example.org", sent_at=timezone.now(), attempts=1)
    html = admin_client.get(
        reverse("admin:protocols_emaildelivery_changelist"), {"state": "undelivered"}
    ).content.decode()
    assert "SMTPConnectError: down" in html
    assert "failing, will retry" in html
    assert "sent@example.org" not in html


@pytest.mark.django_db
def test_marketing_group_sees_and_exports_signups_but_cannot_edit_articles(protocol, make_signup):
    """setup_roles creates "Marketing": view and export signups, no article editing, no signup changes."""
    call_command("setup_roles", stdout=io.StringIO())
    group = Group.objects.get(name="Marketing")
    user = User.objects.create_user("marketer", password="pw", is_staff=True)
    user.groups.add(group)
    assert user.has_perm("protocols.view_signup")
    assert user.has_perm("protocols.export_signups")
    assert not user.has_perm("protocols.change_signup")
    assert not any(perm.startswith("articles.") for perm in user.get_all_permissions())
    client = log_in_staff(Client(), user)
    signup = make_signup(protocol)
    assert isinstance(export(client, [signup.pk]), StreamingHttpResponse)
    assert client.get(reverse("admin:articles_article_changelist")).status_code == 403


@pytest.mark.django_db
def test_slug_help_text_shows_the_address_literally(admin_client):
    """The slug's help text reads as an address in the admin (no angle brackets taken as a tag)."""
    page = admin_client.get("/admin/protocols/protocol/add/").content.decode()
    assert "/protocols/sleep-protocol/" in page
    assert "/protocols//" not in page


# --- The program: steps, previews, test sends, funnel, progress, bounces ------------------------

DUE = datetime(2025, 12, 4, 8, 0, tzinfo=UTC)
SENT = datetime(2025, 12, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def three_steps(make_protocol):
    """A protocol of three steps, the first at confirmation, then two days apart at 08:00 London."""
    protocol = make_protocol(name="Sleep Test", slug="sleep-test", send_hour=8, time_zone="Europe/London")
    for position, subject in enumerate(["Dim the lights", "Same bedtime", "No screens"], start=1):
        Step.objects.create(
            protocol=protocol,
            position=position,
            subject=subject,
            body=f"Read [the sleep article](/articles/sleep/) for step {position}.",
            delay_days=0 if position == 1 else 2,
        )
    return protocol


def with_sent_steps(signup, positions, *, sent_at=SENT):
    """Record these steps as sent to the subscriber (the outbox rows the worker writes)."""
    steps = {s.position: s for s in signup.protocol.steps.all()}
    for position in positions:
        EmailDelivery.objects.create(
            signup=signup,
            kind=EmailDelivery.Kind.STEP,
            step=steps.get(position),
            step_position=position,
            to_email=signup.email,
            subject=steps[position].subject if position in steps else "",
            sent_at=sent_at,
        )
    Signup.objects.filter(pk=signup.pk).update(last_position_sent=max(positions, default=0), last_step_sent_at=sent_at)


def change_form_data(protocol, steps):
    """The protocol's change form as the admin posts it, with `steps` as the inline's rows."""
    data = {
        "name": protocol.name,
        "slug": protocol.slug,
        "tagline": protocol.tagline,
        "description": protocol.description,
        "status": protocol.status,
        "launched_at_0": protocol.launched_at.strftime("%Y-%m-%d"),
        "launched_at_1": protocol.launched_at.strftime("%H:%M:%S"),
        "consent_text": protocol.consent_text,
        "send_hour": protocol.send_hour,
        "time_zone": protocol.time_zone,
        "steps-TOTAL_FORMS": len(steps),
        "steps-INITIAL_FORMS": sum(1 for step in steps if step.get("id")),
        "steps-MIN_NUM_FORMS": 0,
        "steps-MAX_NUM_FORMS": 1000,
        "_save": "Save",
    }
    for i, step in enumerate(steps):
        for name, value in step.items():
            data[f"steps-{i}-{name}"] = value
        data[f"steps-{i}-protocol"] = protocol.pk
    return data


def step_rows(protocol):
    return [
        {"id": s.pk, "position": s.position, "subject": s.subject, "delay_days": s.delay_days, "body": s.body}
        for s in protocol.steps.order_by("position")
    ]


@pytest.mark.django_db
def test_steps_are_added_and_reordered_in_the_protocols_inline(
    admin_client, three_steps, django_capture_on_commit_callbacks
):
    """The change page lists the steps in order with preview links; saving reorders them, adds
    a new one (its HTML rendered with absolute links) and queues the re-planning of subscribers."""
    url = reverse("admin:protocols_protocol_change", args=[three_steps.pk])
    html = admin_client.get(url).content.decode()
    assert html.index("Dim the lights") < html.index("Same bedtime") < html.index("No screens")
    first = three_steps.steps.get(position=1)
    assert reverse("admin:protocols_protocol_step_preview", args=[three_steps.pk, first.pk, "html"]) in html

    rows = step_rows(three_steps)
    rows[1]["position"], rows[2]["position"] = 3, 2
    rows.append({"position": 4, "subject": "Morning light", "delay_days": 1, "body": "See [this](/articles/light/)."})
    tasks_before = DBTaskResult.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, change_form_data(three_steps, rows))

    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(three_steps.steps.order_by("position").values_list("subject", flat=True)) == [
        "Dim the lights",
        "No screens",
        "Same bedtime",
        "Morning light",
    ]
    added = three_steps.steps.get(position=4)
    assert f'href="{settings.SITE_URL}/articles/light/"' in added.body_html
    assert DBTaskResult.objects.count() == tasks_before + 1  # reschedule_protocol_steps


@pytest.mark.django_db
@pytest.mark.parametrize("new_position", [2, None])
def test_two_steps_at_one_position_are_refused_with_a_clear_message(admin_client, three_steps, new_position):
    """Two steps given the same position (an edited one, or a new one) are refused with a
    message naming the position; nothing is saved."""
    url = reverse("admin:protocols_protocol_change", args=[three_steps.pk])
    rows = step_rows(three_steps)
    if new_position is None:
        rows[2]["position"] = 2
    else:
        rows.append({"position": new_position, "subject": "Duplicate", "delay_days": 0, "body": "x"})
    before = list(Step.objects.order_by("pk").values("position", "subject"))

    response = admin_client.post(url, change_form_data(three_steps, rows))

    assert response.status_code == 200
    assert "Two steps have position 2: give each step its own number." in response.content.decode()
    assert list(Step.objects.order_by("pk").values("position", "subject")) == before


@pytest.mark.django_db
def test_step_preview_shows_the_email_html_and_text_with_absolute_links(admin_client, three_steps):
    """The HTML and plain-text previews are the email itself: the step's body with its site links
    made absolute, and the subscriber's manage and unsubscribe links; an unknown part is a 404."""
    step = three_steps.steps.get(position=2)
    site = settings.SITE_URL

    def preview(part):
        return admin_client.get(reverse("admin:protocols_protocol_step_preview", args=[three_steps.pk, step.pk, part]))

    html_response, text_response = preview("html"), preview("text")

    assert html_response.status_code == 200
    assert html_response["Content-Type"].startswith("text/html")
    html = html_response.content.decode()
    assert f'<a href="{site}/articles/sleep/" rel="noopener noreferrer">the sleep article</a> for step 2.' in html
    assert re.search(rf'href="{re.escape(site)}/protocols/manage/[^"]+/"', html)
    assert re.search(rf'href="{re.escape(site)}/protocols/unsubscribe/[^"]+/"', html)
    assert text_response.status_code == 200
    assert text_response["Content-Type"].startswith("text/plain")
    text = text_response.content.decode()
    assert text.startswith("Subject: Same bedtime\n\n")
    assert f"Read the sleep article ({site}/articles/sleep/) for step 2." in text
    assert re.search(
        rf"Pause, change your time zone or see your progress: {re.escape(site)}/protocols/manage/\S+/", text
    )
    assert re.search(rf"Unsubscribe with one click: {re.escape(site)}/protocols/unsubscribe/\S+/", text)
    assert preview("pdf").status_code == 404


@pytest.mark.django_db
def test_step_preview_needs_staff_and_the_right_protocol(admin_client, three_steps, make_protocol):
    """Anonymous visitors are sent to the login; a step looked up under another protocol is a 404."""
    step = three_steps.steps.get(position=1)
    url = reverse("admin:protocols_protocol_step_preview", args=[three_steps.pk, step.pk, "html"])
    assert Client().get(url).status_code == 302
    other = make_protocol()
    wrong = reverse("admin:protocols_protocol_step_preview", args=[other.pk, step.pk, "html"])
    assert admin_client.get(wrong).status_code == 404


@pytest.mark.django_db
def test_test_send_goes_to_the_staff_members_own_address(admin_client, admin_user, three_steps, mailoutbox):
    """GET asks and sends nothing; POST sends the step, marked [Test], to the signed-in staff
    member's address only, and says so."""
    step = three_steps.steps.get(position=2)
    url = reverse("admin:protocols_protocol_step_test", args=[three_steps.pk, step.pk])

    page = admin_client.get(url)
    assert page.status_code == 200
    assert f"The email goes to <strong>{admin_user.email}</strong>" in page.content.decode()
    assert mailoutbox == []

    response = admin_client.post(url, follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:protocols_protocol_change", args=[three_steps.pk])
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [admin_user.email]
    assert message.subject == "[Test] Same bedtime"
    assert f"({settings.SITE_URL}/articles/sleep/)" in message.body
    assert f"{settings.SITE_URL}/articles/sleep/" in message.alternatives[0][0]
    assert f"Test of “Same bedtime” sent to {admin_user.email}." in response.content.decode()


@pytest.mark.django_db
def test_test_send_without_an_email_address_says_what_to_do(three_steps, mailoutbox):
    """A staff user with no email address is told to add one; nothing is sent."""
    client = staff_with("protocols.view_protocol", username="noemail")
    step = three_steps.steps.get(position=1)
    url = reverse("admin:protocols_protocol_step_test", args=[three_steps.pk, step.pk])

    assert "Your account has no email address." in client.get(url).content.decode()
    response = client.post(url, follow=True)

    assert mailoutbox == []
    assert "Your account has no email address: add one first." in response.content.decode()


@pytest.mark.django_db
def test_funnel_counts_each_stage_and_the_unsubscribes_after_it(admin_client, three_steps, make_signup):
    """The funnel's table counts confirmed subscribers, those who received each step and those
    who completed, with the unsubscribes after each stage; the SVG draws the same rows."""
    confirmed = {"status": Signup.Status.CONFIRMED, "confirmed_at": SENT, "program_started_at": SENT}
    left_at_0 = make_signup(three_steps, "a@example.org", **confirmed)
    Signup.objects.filter(pk=left_at_0.pk).update(status=Signup.Status.UNSUBSCRIBED)
    left_at_1 = make_signup(three_steps, "b@example.org", **confirmed)
    with_sent_steps(left_at_1, [1])
    Signup.objects.filter(pk=left_at_1.pk).update(status=Signup.Status.UNSUBSCRIBED)
    at_2 = make_signup(three_steps, "c@example.org", **confirmed)
    with_sent_steps(at_2, [1, 2])
    done = make_signup(three_steps, "d@example.org", **confirmed, completed_at=SENT)
    with_sent_steps(done, [1, 2, 3])
    make_signup(three_steps, "pending@example.org")  # never confirmed: not in the funnel

    html = admin_client.get(reverse("admin:protocols_protocol_change", args=[three_steps.pk])).content.decode()

    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>(\d+)</td><td>([^<]+)</td></tr>', html)
    assert rows == [
        ("Confirmed", "4", "1"),
        ("Step 1: Dim the lights", "3", "1"),
        ("Step 2: Same bedtime", "2", "0"),
        ("Step 3: No screens", "1", "0"),
        ("Completed", "1", "–"),
    ]
    svg = html.split("Program funnel")[1].split("</svg>")[0]
    assert svg.count("<rect ") == 5
    assert "<title>Step 1: Dim the lights: 3</title>" in svg


def progress_signups(protocol, make_signup):
    """Subscribers at each stage, as the signups list shows them."""
    started = {"status": Signup.Status.CONFIRMED, "confirmed_at": SENT, "program_started_at": SENT}
    due = make_signup(protocol, "due@example.org", **started, next_step_due_at=DUE)
    with_sent_steps(due, [1, 2])
    paused = make_signup(protocol, "paused@example.org", **started, paused_at=SENT, next_step_due_at=DUE)
    with_sent_steps(paused, [1])
    completed = make_signup(protocol, "completed@example.org", **started, completed_at=SENT)
    with_sent_steps(completed, [1, 2, 3])
    bounced = make_signup(protocol, "bounced@example.org", **started)
    with_sent_steps(bounced, [1])
    BouncedAddress.objects.create(email="Bounced@Example.org", bounced_at=SENT, reason="550 no such user")
    on_its_way = make_signup(protocol, "onitsway@example.org", **started)
    pending = make_signup(protocol, "pending@example.org")
    return {
        "due": due,
        "paused": paused,
        "completed": completed,
        "bounced": bounced,
        "on its way": on_its_way,
        "pending": pending,
    }


@pytest.mark.django_db
def test_signups_list_shows_progress_and_filters_by_it(
    admin_client, three_steps, make_signup, django_assert_max_num_queries
):
    """The Program column says the last step sent and what comes next (due time, paused,
    completed, bounced); the program filter picks each group (in progress leaves out bounced)."""
    progress_signups(three_steps, make_signup)
    url = reverse("admin:protocols_signup_changelist")

    with django_assert_max_num_queries(10):
        html = admin_client.get(url).content.decode()

    cells = dict(
        re.findall(
            r'<a href="[^"]+">([^<]+@example.org)</a></th>.*?<td class="field-progress">([^<]*)</td>', html, re.S
        )
    )
    assert cells == {
        "due@example.org": "step 2 sent; next due 2025-12-04 08:00",
        "paused@example.org": "step 1 sent; paused",
        "completed@example.org": "step 3 sent; completed",
        "bounced@example.org": "step 1 sent; bounced",
        "onitsway@example.org": "step on its way",
        "pending@example.org": "–",
    }

    def listed(program):
        page = admin_client.get(url, {"program": program}).content.decode()
        return sorted(re.findall(r'<a href="[^"]+">([^<]+@example.org)</a></th>', page))

    assert listed("active") == ["due@example.org", "onitsway@example.org"]
    assert listed("paused") == ["paused@example.org"]
    assert listed("completed") == ["completed@example.org"]
    assert listed("bounced") == ["bounced@example.org"]


@pytest.mark.django_db
def test_export_has_the_progress_columns_and_bounced(three_steps, make_signup):
    """The CSV's columns name the program's progress; each row gives the last step sent, the
    next due time, paused and completed times, and whether the address bounced."""
    signups = progress_signups(three_steps, make_signup)
    client = staff_with("protocols.view_signup", "protocols.export_signups")

    header, *rows = read_csv(export(client, [s.pk for s in signups.values()]))

    assert header == [
        "email",
        "protocol",
        "status",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "consented_at",
        "last_step_sent",
        "last_step_sent_at",
        "next_step_due_at",
        "paused_at",
        "completed_at",
        "bounced",
    ]
    by_email = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert len(by_email) == 6
    due = by_email["due@example.org"]
    assert (due["protocol"], due["last_step_sent"], due["last_step_sent_at"], due["next_step_due_at"]) == (
        "Sleep Test",
        "2",
        SENT.isoformat(),
        DUE.isoformat(),
    )
    assert due["bounced"] == "False" and due["paused_at"] == ""
    assert by_email["paused@example.org"]["paused_at"] == SENT.isoformat()
    assert by_email["completed@example.org"]["completed_at"] == SENT.isoformat()
    assert by_email["bounced@example.org"]["bounced"] == "True"
    assert by_email["pending@example.org"]["last_step_sent"] == "0"


@pytest.mark.django_db
def test_staff_see_bounced_addresses_and_cannot_delete_them(admin_client, three_steps):
    """The bounced addresses list shows each address and the server's answer; plain deletion is
    not offered (lifting is)."""
    bounced = BouncedAddress.objects.create(email="gone@example.org", bounced_at=SENT, reason="550 5.1.1 no such user")
    html = admin_client.get(reverse("admin:protocols_bouncedaddress_changelist")).content.decode()
    assert "gone@example.org" in html and "550 5.1.1 no such user" in html
    assert 'value="lift"' in html and 'value="delete_selected"' not in html
    assert admin_client.get(reverse("admin:protocols_bouncedaddress_delete", args=[bounced.pk])).status_code == 403


@pytest.mark.django_db
def test_lifting_a_bounce_replans_the_stalled_program(
    admin_client, three_steps, make_signup, make_protocol, django_capture_on_commit_callbacks, worker, mailoutbox
):
    """Lifting removes the bounce record and restarts the stalled program: the bounced step is
    queued again, and once the worker sends it the next one is planned (next_step_due_at set
    again, two days later at 08:00). An unsubscribed signup of the address stays untouched."""
    sent = timezone.now() - timedelta(days=3)
    signup = make_signup(
        three_steps, "back@example.org", status=Signup.Status.CONFIRMED, confirmed_at=sent, program_started_at=sent
    )
    with_sent_steps(signup, [1], sent_at=sent)
    EmailDelivery.objects.create(
        signup=signup,
        kind=EmailDelivery.Kind.STEP,
        step=three_steps.steps.get(position=2),
        step_position=2,
        to_email=signup.email,
        skipped_reason="address bounced",
    )
    gone = make_signup(make_protocol(), "BACK@example.org", status=Signup.Status.UNSUBSCRIBED)
    bounced = BouncedAddress.objects.create(email="Back@Example.org", bounced_at=sent, reason="550 mailbox full")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:protocols_bouncedaddress_changelist"),
            {"action": "lift", "_selected_action": [bounced.pk]},
            follow=True,
        )

    assert "1 address(es) lifted; their programs continue." in response.content.decode()
    assert not BouncedAddress.objects.exists()
    queued = EmailDelivery.objects.filter(signup=signup, skipped_reason="", sent_at__isnull=True)
    assert [d.step_position for d in queued] == [2]
    assert not gone.deliveries.exists()

    worker()

    assert [m.subject for m in mailoutbox] == ["Same bedtime"]
    signup.refresh_from_db()
    assert signup.last_position_sent == 2
    local_day = timezone.localtime(signup.last_step_sent_at, ZoneInfo("Europe/London")).date() + timedelta(days=2)
    assert signup.next_step_due_at == datetime(
        local_day.year, local_day.month, local_day.day, 8, tzinfo=ZoneInfo("Europe/London")
    )
