import pytest
from django.db import IntegrityError, transaction

from protocols.models import Protocol, Signup


@pytest.mark.django_db
def test_description_is_rendered_and_sanitised_on_save(make_protocol):
    """Markdown becomes stored HTML once, on save, with raw HTML and scripts removed."""
    protocol = make_protocol(description="Hello **there**\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))")
    assert "<strong>there</strong>" in protocol.description_html
    assert "<script" not in protocol.description_html
    assert 'href="javascript' not in protocol.description_html


@pytest.mark.django_db
def test_absolute_url_is_the_protocol_page(make_protocol):
    """A protocol's address is /protocols/<slug>/."""
    assert make_protocol(slug="calm-mornings").get_absolute_url() == "/protocols/calm-mornings/"


@pytest.mark.django_db
def test_opening_a_protocol_sets_launched_at(make_protocol):
    """An open protocol without a launch date gets one, so the banner can pick the newest."""
    upcoming = make_protocol(status=Protocol.Status.UPCOMING)
    assert upcoming.launched_at is None
    upcoming.status = Protocol.Status.OPEN
    upcoming.save()
    assert upcoming.launched_at is not None


@pytest.mark.django_db
def test_which_statuses_take_signups(make_protocol):
    """Open and upcoming protocols take signups (upcoming as a waitlist); closed ones do not."""
    assert make_protocol(status="open").accepts_signups
    waitlist = make_protocol(status="upcoming")
    assert waitlist.accepts_signups and waitlist.is_waitlist
    assert not make_protocol(status="closed").accepts_signups


@pytest.mark.django_db
def test_one_signup_per_protocol_and_email_case_insensitive(make_protocol, make_signup):
    """The database itself refuses a second row for the same address in another case."""
    protocol = make_protocol()
    make_signup(protocol, "Reader@Example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_signup(protocol, "reader@example.org")
    assert Signup.objects.count() == 1


@pytest.mark.django_db
def test_same_email_may_join_different_protocols(make_protocol, make_signup):
    """Uniqueness is per protocol: one address can join two protocols."""
    make_signup(make_protocol(), "reader@example.org")
    make_signup(make_protocol(), "reader@example.org")
    assert Signup.objects.count() == 2


@pytest.mark.django_db
def test_export_permission_exists():
    """Exporting signups has its own permission, separate from viewing them."""
    from django.contrib.auth.models import Permission

    assert Permission.objects.filter(content_type__app_label="protocols", codename="export_signups").exists()
