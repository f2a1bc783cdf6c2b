import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from protocols.admin import csv_safe
from protocols.charts import signups_per_day
from protocols.models import EmailDelivery, Signup
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
