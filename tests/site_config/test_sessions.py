"""site_config.sessions: Django's database sessions with a plain-SQL read; the same answers."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.utils import timezone

from site_config.sessions import SessionStore

pytestmark = pytest.mark.django_db


def saved_session(**data):
    session = SessionStore()
    session.update(data)
    session.set_expiry(3600)
    session.save()
    return session.session_key


def test_reads_what_djangos_store_reads_for_a_live_an_expired_and_an_unknown_key():
    live = saved_session(reader="ada", count=3)
    expired = saved_session(reader="bob")
    unknown = "nosuchsessionkey0000000000000000"
    later = timezone.now() + timedelta(minutes=30)
    with time_machine.travel(later, tick=False):
        # An hour-long session saved now, read half an hour later, is live; move the other on.
        data = SessionStore(live).load()
        assert data == DjangoSessionStore(live).load()
        assert data["reader"] == "ada" and data["count"] == 3
    with time_machine.travel(later + timedelta(hours=1), tick=False):
        for key in (expired, unknown):
            ours, djangos = SessionStore(key), DjangoSessionStore(key)
            assert ours.load() == djangos.load() == {}
            assert ours.session_key is None and djangos.session_key is None


def test_a_signed_in_user_stays_signed_in_and_an_expired_cookie_is_deleted(client, settings):
    settings.SESSION_COOKIE_AGE = 600
    user = get_user_model().objects.create_user("reader", "reader@example.com", "a-long-test-password-1")
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert SessionStore(key)["_auth_user_id"] == str(user.pk)
    response = client.get("/robots.txt")
    assert settings.SESSION_COOKIE_NAME not in response.cookies  # read, valid, left alone
    with time_machine.travel(timezone.now() + timedelta(seconds=601), tick=False):
        assert SessionStore(key).load() == {}
        response = client.get("/articles/")
    assert response.status_code == 200
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""
