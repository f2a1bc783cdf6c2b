"""The audit trail: staff exports and changes of signups are recorded, and only superusers read them."""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from protocols.models import AuditEvent, BouncedAddress, Signup
from tests.helpers import log_in_staff


@pytest.fixture
def staff_client(db):
    user = User.objects.create_user("marketer", "m@example.org", "pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=[
                "view_signup",
                "change_signup",
                "delete_signup",
                "delete_emaildelivery",
                "export_signups",
                "view_auditevent",
            ]
        )
    )
    return log_in_staff(Client(), user)


def post_action(client, action, ids, **params):
    url = reverse("admin:protocols_signup_changelist")
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(url, {"action": action, "_selected_action": ids, "index": "0"})


@pytest.mark.django_db
def test_an_export_is_recorded_with_who_what_and_how_many(staff_client, protocol, make_signup):
    """Exporting two signups leaves one audit event naming the user, the action, the rows and the filters."""
    ids = [make_signup(protocol, f"r{i}@example.org").pk for i in range(2)]
    response = post_action(staff_client, "export_csv", ids, status__exact="pending")
    b"".join(response.streaming_content)
    event = AuditEvent.objects.get()
    assert (event.username, event.action, event.rows) == ("marketer", "export", 2)
    assert "status__exact=pending" in event.details


@pytest.mark.django_db
def test_deleting_and_resending_are_recorded(staff_client, protocol, make_signup, django_capture_on_commit_callbacks):
    """Resending confirmations and deleting signups are recorded with the addresses concerned."""
    signup = make_signup(protocol, "gone@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        post_action(staff_client, "resend_confirmation", [signup.pk])
    staff_client.post(
        reverse("admin:protocols_signup_changelist"),
        {"action": "delete_selected", "_selected_action": [signup.pk], "post": "yes"},
    )
    assert not Signup.objects.exists()
    events = list(AuditEvent.objects.order_by("pk").values_list("action", "rows"))
    assert events == [("resend", 1), ("delete", 1)]
    assert "gone@example.org" in AuditEvent.objects.get(action="delete").details


@pytest.mark.django_db
def test_lifting_a_bounce_is_recorded(admin_client):
    """Lifting a bounced address is an audited change."""
    from django.utils import timezone

    bounced = BouncedAddress.objects.create(email="b@example.org", bounced_at=timezone.now())
    admin_client.post(
        reverse("admin:protocols_bouncedaddress_changelist"), {"action": "lift", "_selected_action": [bounced.pk]}
    )
    assert not BouncedAddress.objects.exists()
    assert AuditEvent.objects.get().details == "b@example.org"


@pytest.mark.django_db
def test_only_superusers_read_the_trail_and_nobody_edits_it(staff_client, admin_client, admin_user):
    """Staff, even with the view permission, do not see the audit; superusers see it read-only."""
    event = AuditEvent.objects.create(user=admin_user, username="admin", action="export", rows=3)
    changelist = reverse("admin:protocols_auditevent_changelist")
    assert staff_client.get(changelist).status_code == 403
    response = admin_client.get(changelist)
    assert response.status_code == 200 and b"Exported signups" in response.content
    change = reverse("admin:protocols_auditevent_change", args=[event.pk])
    assert admin_client.post(change, {"rows": 99}).status_code == 403
    assert admin_client.get(reverse("admin:protocols_auditevent_add")).status_code == 403
    event.refresh_from_db()
    assert event.rows == 3
