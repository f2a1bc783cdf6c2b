"""Headers of the emails as they leave: the Message-ID names the site, not the machine."""

import re
from email import message_from_bytes

import pytest
from django.core import mail

from tests.helpers import run_worker
from tests.protocols.factories import sign_up


@pytest.mark.django_db
def test_message_id_domain_is_the_site_host(protocol, django_capture_on_commit_callbacks, settings):
    """The sent confirmation's Message-ID ends in SITE_URL's host (not @localhost or the
    machine's name), and every email gets its own."""
    settings.SITE_URL = "https://news.example.test:8443"
    sign_up(protocol, "reader@example.org", django_capture_on_commit_callbacks)
    sign_up(protocol, "other@example.org", django_capture_on_commit_callbacks)
    assert run_worker() == 2
    ids = [message_from_bytes(sent.message().as_bytes())["Message-ID"] for sent in mail.outbox]
    assert all(re.fullmatch(r"<[^@<>\s]+@news\.example\.test>", message_id) for message_id in ids), ids
    assert len(set(ids)) == 2
